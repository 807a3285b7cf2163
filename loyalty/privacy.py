"""The host's side of data-subject rights: one adapter class a shop names in ``PRIVACY_ADAPTER``.

The plugin erases and exports its own data. What belongs to the host (its user accounts,
addresses, orders) is handed to this adapter, which a shop subclasses::

    class ShopPrivacyAdapter(PrivacyAdapter):
        def erase_host_data(self, member, user):
            user.customer_profile.anonymise()
"""

from functools import lru_cache

from django.contrib.sessions.models import Session
from django.utils import timezone
from django.utils.module_loading import import_string

from .conf import loyalty_settings

HOST_USER_FIELDS = ("username", "email", "first_name", "last_name", "date_joined", "last_login")


class PrivacyAdapter:
    """Default behaviour for a host built on ``django.contrib.auth``; every method may be overridden."""

    def contact_addresses(self, user) -> list[str]:
        """Addresses the shop markets to (e-mail, phone): hashed into the suppression list on erasure."""
        email = getattr(user, "email", "") or ""
        return [email] if email else []

    def export_host_data(self, user) -> dict:
        """The host's data about the member included in an export (the ``account`` section)."""
        return {field: getattr(user, field) for field in HOST_USER_FIELDS if hasattr(user, field)}

    def erase_host_data(self, member, user) -> None:
        """Erase or anonymise the host's own data of the person; the default keeps the host's user."""

    def end_sessions(self, user) -> int:
        """End the person's sessions and API tokens; returns how many were ended."""
        ended = 0
        user_id = str(user.pk)
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator(chunk_size=1000):
            if str(session.get_decoded().get("_auth_user_id")) == user_id:
                session.delete()
                ended += 1
        tokens = getattr(user, "auth_token", None)
        if tokens is not None:
            tokens.delete()
            ended += 1
        return ended


@lru_cache(maxsize=8)
def _adapter_class(path: str) -> type[PrivacyAdapter]:
    return import_string(path)


def privacy_adapter() -> PrivacyAdapter:
    return _adapter_class(loyalty_settings.PRIVACY_ADAPTER)()
