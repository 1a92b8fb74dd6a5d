"""Operator passwords and JWTs; device provision tokens (only their SHA-256 is stored)."""

from __future__ import annotations

import functools
import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shared.errors import Unauthorized

ROLES = ("admin", "operator", "viewer")
WRITE_ROLES = frozenset({"admin", "operator"})
JWT_ALGORITHM = "HS256"
JWT_AUDIENCE = "iotcloud-operator"

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the e-mail is unknown, so a login takes as long either way. Made on first
    use, not at import: argon2 takes 64 MiB, which services that never check a password need not pay."""
    return _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True, slots=True)
class Principal:
    tenant_id: str
    user_id: str
    email: str
    role: str

    @property
    def can_write(self) -> bool:
        return self.role in WRITE_ROLES


def issue_token(principal: Principal, secret: str, ttl_seconds: int, now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "sub": principal.user_id,
        "tid": principal.tenant_id,
        "email": principal.email,
        "role": principal.role,
        "aud": JWT_AUDIENCE,
        "iat": issued,
        "exp": issued + ttl_seconds,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, secret, algorithm=JWT_ALGORITHM)


def decode_token(token: str, secret: str) -> Principal:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            audience=JWT_AUDIENCE,
            options={"require": ["sub", "tid", "role", "exp", "aud"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("token expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("invalid token") from exc
    role = claims.get("role")
    if role not in ROLES or not isinstance(claims.get("tid"), str) or not isinstance(claims.get("sub"), str):
        raise Unauthorized("invalid token")
    return Principal(
        tenant_id=claims["tid"], user_id=claims["sub"], email=str(claims.get("email", "")), role=role
    )


def new_provision_token() -> str:
    return "tok-" + secrets.token_urlsafe(24)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
