from django.urls import path

from . import views

app_name = "loyalty-api"

urlpatterns = [
    path("v1/me/", views.MeView.as_view(), name="me"),
    path("v1/me/ledger/", views.MyLedgerView.as_view(), name="my-ledger"),
]
