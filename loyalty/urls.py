from django.urls import path

from . import views

app_name = "loyalty"

urlpatterns = [
    path("", views.member_center, name="member-center"),
    path("join/", views.join, name="join"),
    path("language/", views.set_language, name="set-language"),
    path("rewards/", views.reward_catalog, name="reward-catalog"),
    path("rewards/<int:reward_id>/", views.reward_detail, name="reward-detail"),
    path("rewards/<int:reward_id>/redeem/", views.redeem, name="reward-redeem"),
    path("rewards/mine/", views.my_rewards, name="my-rewards"),
    path("rewards/mine/<int:redemption_id>/cancel/", views.cancel_reward, name="cancel-redemption"),
    path("privacy/", views.privacy_center, name="privacy"),
    path("privacy/consents/", views.privacy_consent, name="privacy-consent"),
    path("privacy/requests/", views.privacy_request, name="privacy-request"),
    path("privacy/exports/<str:token>/", views.privacy_export, name="privacy-export"),
]
