"""URLs of the Oscar test host: the shop at the root, the plugin's member center and API beside it."""

from django.apps import apps
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("loyalty/", include("loyalty.urls")),
    path("api/loyalty/", include("loyalty.api.urls")),
    path("", include(apps.get_app_config("oscar").urls[0])),
]
