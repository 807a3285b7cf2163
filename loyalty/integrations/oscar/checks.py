"""System checks for a host's ``LOYALTY_OSCAR`` settings and its fulfilment backend."""

from django.core.checks import Error, Tags, Warning, register
from django.utils.module_loading import import_string

from ...conf import loyalty_settings
from .conf import DEFAULTS, STATUS_ACTIONS, user_settings
from .vouchers import OscarVoucherBackend


@register(Tags.compatibility)
def check_oscar_settings(app_configs=None, **kwargs) -> list:
    written = user_settings()
    if not isinstance(written, dict):
        return [Error("settings.LOYALTY_OSCAR must be a dict.", id="loyalty_oscar.E001")]
    errors = [
        Error(
            f"Unknown setting LOYALTY_OSCAR[{key!r}].",
            hint=f"Known settings: {', '.join(sorted(DEFAULTS))}.",
            id="loyalty_oscar.E002",
        )
        for key in sorted(set(written) - set(DEFAULTS))
    ]
    actions = written.get("STATUS_ACTIONS", DEFAULTS["STATUS_ACTIONS"])
    if not isinstance(actions, dict) or not set(actions.values()) <= set(STATUS_ACTIONS):
        errors.append(
            Error(
                "LOYALTY_OSCAR['STATUS_ACTIONS'] must map Oscar order statuses to "
                f"{' or '.join(repr(action) for action in STATUS_ACTIONS)}.",
                id="loyalty_oscar.E003",
            )
        )
    return errors


@register(Tags.compatibility)
def check_fulfilment_backend(app_configs=None, **kwargs) -> list:
    """Without the voucher backend, redeemed discounts never become Oscar vouchers."""
    try:
        backend = import_string(loyalty_settings.FULFILMENT_BACKEND)
    except ImportError:
        return []  # the plugin's own checks report a backend that cannot be imported
    if isinstance(backend, type) and issubclass(backend, OscarVoucherBackend):
        return []
    return [
        Warning(
            "Redeemed discount rewards do not become Oscar vouchers.",
            hint=(
                f'Set LOYALTY["FULFILMENT_BACKEND"] = "{OscarVoucherBackend.__module__}.'
                f'{OscarVoucherBackend.__name__}" (or a subclass of it).'
            ),
            id="loyalty_oscar.W001",
        )
    ]
