from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyAdminConfig(AppConfig):
    name = "loyalty_admin"
    verbose_name = _("Loyalty console")
    default_auto_field = "django.db.models.BigAutoField"
