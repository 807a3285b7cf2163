from django.urls import path

from . import events, views

app_name = "loyalty-api"

urlpatterns = [
    path("v1/me/", views.MeView.as_view(), name="me"),
    path("v1/me/ledger/", views.MyLedgerView.as_view(), name="my-ledger"),
    path("v1/me/tier/", views.MyTierView.as_view(), name="my-tier"),
    path("v1/me/referral/", views.MyReferralView.as_view(), name="my-referral"),
    path("v1/me/challenges/", views.MyChallengesView.as_view(), name="my-challenges"),
    path("v1/me/consents/", views.MyConsentsView.as_view(), name="my-consents"),
    path("v1/me/privacy-requests/", views.MyPrivacyRequestsView.as_view(), name="my-privacy-requests"),
    path("v1/me/exports/<str:token>/", views.MyExportView.as_view(), name="my-export"),
    path("v1/events/", events.receive_events, name="events"),
    path("v1/tiers/", views.TierLadderView.as_view(), name="tiers"),
    path("v1/rewards/", views.RewardListView.as_view(), name="rewards"),
    path("v1/rewards/<str:reward_id>/", views.RewardDetailView.as_view(), name="reward"),
    path("v1/rewards/<str:reward_id>/redeem/", views.RedeemRewardView.as_view(), name="redeem-reward"),
    path("v1/me/redemptions/", views.MyRedemptionsView.as_view(), name="my-redemptions"),
    path(
        "v1/me/redemptions/<str:redemption_id>/cancel/",
        views.CancelRedemptionView.as_view(),
        name="cancel-redemption",
    ),
]
