from django.urls import path

from . import views

app_name = "loyalty"

urlpatterns = [
    path("", views.member_center, name="member-center"),
    path("join/", views.join, name="join"),
    path("language/", views.set_language, name="set-language"),
]
