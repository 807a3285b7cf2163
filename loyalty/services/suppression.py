"""Suppression: keyed hashes of erased members' addresses, so they are never marketed to again."""

from django.conf import settings
from django.utils.crypto import salted_hmac

from ..models import CollectionMethod, ConsentActor, ConsentEvent, Member, SuppressionEntry
from ..privacy import privacy_adapter


def address_hash(address: str, key: str | None = None) -> str:
    """A keyed hash of a normalised address: equal for the same address, unreadable without the key."""
    return salted_hmac(
        "loyalty.suppression", address.strip().lower(), secret=key, algorithm="sha256"
    ).hexdigest()


def _address_hashes(address: str) -> list[str]:
    """The address's hash under the secret key and each fallback key (entries made before a rotation)."""
    return [address_hash(address, key) for key in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]]


def suppress(addresses: list[str]) -> int:
    """Add the addresses to the suppression list; returns how many were new."""
    hashes = {address_hash(address) for address in addresses if address and address.strip()}
    known = set(
        SuppressionEntry.objects.filter(identifier_hash__in=hashes).values_list("identifier_hash", flat=True)
    )
    SuppressionEntry.objects.bulk_create(
        [SuppressionEntry(identifier_hash=digest) for digest in sorted(hashes - known)], ignore_conflicts=True
    )
    return len(hashes - known)


def is_suppressed(member: Member, consent: ConsentEvent | None) -> bool:
    """Whether the member's address is suppressed for marketing.

    Only the member's own decision, made after the address was suppressed, lifts it: an imported
    or operator-recorded consent never does.
    """
    if member.user is None:
        return False
    hashes = [
        digest
        for address in privacy_adapter().contact_addresses(member.user)
        for digest in _address_hashes(address)
    ]
    entry = SuppressionEntry.objects.filter(identifier_hash__in=hashes).order_by("-created_at").first()
    if entry is None:
        return False
    own_later_decision = (
        consent is not None
        and consent.actor == ConsentActor.MEMBER
        and consent.method not in (CollectionMethod.IMPORT, CollectionMethod.ADMIN)
        and consent.occurred_at > entry.created_at
    )
    return not own_later_decision
