"""The webhook signature, the same in both directions.

``X-Loyalty-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + raw body>``. The
timestamp is signed with the body, so an old delivery cannot be replayed once it is outside the
tolerance, and a changed body or timestamp no longer matches. Several ``v1`` values may be sent
while a secret is rotated.
"""

import hashlib
import hmac
import re
import time
from collections.abc import Iterable

from .exceptions import InvalidSignature, SignatureExpired

SIGNATURE_HEADER = "X-Loyalty-Signature"
SOURCE_HEADER = "X-Loyalty-Source"
EVENT_ID_HEADER = "X-Loyalty-Event-Id"
SCHEME = "v1"
TIMESTAMP = re.compile(r"[0-9]{1,12}")
HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")


def compute_signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value that signs ``body`` now (or at ``timestamp``) with ``secret``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},{SCHEME}={compute_signature(secret, timestamp, body)}"


def verify_signature(header: str, body: bytes, secrets: Iterable[str], *, now: float, tolerance: int) -> None:
    """Raise ``invalid_signature`` unless one secret signed ``body``; ``signature_expired`` if too old."""
    timestamp, signatures = _parse(header)
    expected = [compute_signature(secret, timestamp, body) for secret in secrets]
    if not any(hmac.compare_digest(mine, theirs) for mine in expected for theirs in signatures):
        raise InvalidSignature()
    if abs(now - timestamp) > tolerance:
        raise SignatureExpired()


def _parse(header: str) -> tuple[int, list[str]]:
    """The timestamp and the signatures; anything but ASCII digits and hex is no signature at all."""
    timestamp, signatures = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and TIMESTAMP.fullmatch(value):
            timestamp = int(value)
        elif key == SCHEME and HEX_DIGEST.fullmatch(value):
            signatures.append(value.lower())
    if timestamp is None or not signatures:
        raise InvalidSignature()
    return timestamp, signatures
