from django.urls import path

from . import views

app_name = "loyalty-api"

urlpatterns = [
    path("v1/me/", views.MeView.as_view(), name="me"),
    path("v1/me/ledger/", views.MyLedgerView.as_view(), name="my-ledger"),
    path("v1/me/tier/", views.MyTierView.as_view(), name="my-tier"),
    path("v1/me/referral/", views.MyReferralView.as_view(), name="my-referral"),
    path("v1/me/challenges/", views.MyChallengesView.as_view(), name="my-challenges"),
    path("v1/tiers/", views.TierLadderView.as_view(), name="tiers"),
]
