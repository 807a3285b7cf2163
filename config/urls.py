from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="loyalty:member-center", permanent=False)),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(template_name="admin/login.html"), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("loyalty/", include("loyalty.urls")),
    path("api/loyalty/", include("loyalty.api.urls")),
    # Reward images uploaded in the demo's admin; a real host serves media from its web server or storage.
    *static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT),
]
