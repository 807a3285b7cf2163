from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyOscarConfig(AppConfig):
    name = "loyalty.integrations.oscar"
    label = "loyalty_oscar"
    verbose_name = _("Loyalty for django-oscar")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks, receivers  # noqa: F401  (checks registers the system checks)

        receivers.connect()
