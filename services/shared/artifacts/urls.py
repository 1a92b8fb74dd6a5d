"""Signed artifact URLs: a device receives, for each artifact its job references, a URL that names the
artifact's tenant, content (SHA-256), the device it was issued to and an expiry, signed with HMAC-SHA256 (a
JWT, HS256, as the operator tokens of shared/auth.py are) under a key derived from the installation secret.
The device API serves the URL without any other credential (an OTA client or bootloader may fetch it as it
is); a tampered, expired or foreign token is refused with 403."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from shared.errors import Forbidden

AUDIENCE = "iotcloud-artifact"
ALGORITHM = "HS256"
URL_PATH = "/device/v1/artifacts/"


@dataclass(frozen=True, slots=True)
class Grant:
    """What a valid URL grants: one tenant's content, to one device, until `expires_at`."""

    tenant_id: str
    device_id: str
    sha256: str
    expires_at: datetime


def _key(secret: str) -> bytes:
    # A key of its own: an artifact token is never valid as an operator token, nor the reverse.
    return hmac.new(secret.encode(), b"iotcloud artifact urls v1", hashlib.sha256).digest()


def sign(secret: str, tenant_id: str, device_id: str, sha256: str, now: datetime, ttl: timedelta) -> str:
    claims: dict[str, Any] = {
        "aud": AUDIENCE,
        "tid": tenant_id,
        "did": device_id,
        "sha": sha256,
        "exp": int((now + ttl).timestamp()),
    }
    return jwt.encode(claims, _key(secret), algorithm=ALGORITHM)


def verify(secret: str, token: str, now: datetime) -> Grant:
    """The grant of a token signed by `sign`, or Forbidden: tampered, malformed, or expired at `now` (the
    app's clock: the expiry is checked here, not against the system clock)."""
    try:
        claims = jwt.decode(
            token,
            _key(secret),
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"require": ["aud", "tid", "did", "sha", "exp"], "verify_exp": False},
        )
    except jwt.PyJWTError as exc:
        raise Forbidden("invalid artifact URL signature") from exc
    tid, did, sha, exp = claims.get("tid"), claims.get("did"), claims.get("sha"), claims.get("exp")
    if not all(isinstance(v, str) for v in (tid, did, sha)) or not isinstance(exp, int):
        raise Forbidden("invalid artifact URL")
    expires_at = datetime.fromtimestamp(exp, tz=UTC)
    if expires_at <= now:
        raise Forbidden("artifact URL expired")
    return Grant(tenant_id=str(tid), device_id=str(did), sha256=str(sha), expires_at=expires_at)
