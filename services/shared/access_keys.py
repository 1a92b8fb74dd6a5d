"""AWS access keys (docs/aws-compat.md): an operator's credentials for the AWS-compatible API. SigV4 needs the
secret itself to recompute a signature, so it is stored encrypted (Fernet, with a key derived by HKDF from the
installation secret), shown once at creation, never listed. A key carries its creator's role at creation."""

from __future__ import annotations

import base64
import functools
import secrets
from datetime import datetime
from typing import Any

import asyncpg
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from shared.errors import NotFound

# AWS's access key ids: AKIA and 16 base32 characters; a secret: 40 characters.
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_HKDF_INFO = b"iotcloud aws access key secrets v1"

INSERT_KEY = """
INSERT INTO aws_access_keys
       (tenant_id, access_key_id, secret_encrypted, user_id, role, created_by, created_at)
VALUES (current_setting('app.tenant_id'), $1, $2, $3, $4, $5, $6)
RETURNING access_key_id, role, created_by, created_at, revoked_at
"""
LIST_KEYS = """
SELECT access_key_id, role, created_by, created_at, revoked_at
  FROM aws_access_keys ORDER BY created_at, access_key_id
"""
KEY_OWNER = "SELECT user_id FROM aws_access_keys WHERE access_key_id = $1"
REVOKE_KEY = """
UPDATE aws_access_keys SET revoked_at = coalesce(revoked_at, $2)
 WHERE access_key_id = $1
RETURNING access_key_id, role, created_by, created_at, revoked_at
"""
# The credential behind an access key id, across tenants (db/functions/097_aws.sql): an operator key's
# encrypted secret, or a device's (thing name) token hash.
CREDENTIAL = "SELECT kind, tenant_id, role, device_id, user_id, secret FROM iotcloud.aws_credential($1)"


@functools.lru_cache(maxsize=8)
def _fernet(installation_secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
        installation_secret.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_secret(installation_secret: str, secret: str) -> str:
    return _fernet(installation_secret).encrypt(secret.encode()).decode()


def decrypt_secret(installation_secret: str, encrypted: str) -> str | None:
    """The secret, or None when it was encrypted under another installation secret."""
    try:
        return _fernet(installation_secret).decrypt(encrypted.encode()).decode()
    except InvalidToken:
        return None


def new_key_pair() -> tuple[str, str]:
    """(access key id, secret access key), random, shaped as AWS's."""
    key_id = "AKIA" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))
    return key_id, secrets.token_urlsafe(30)[:40]


async def create_key(
    conn: asyncpg.Connection,
    installation_secret: str,
    user_id: str,
    role: str,
    created_by: str,
    now: datetime,
) -> dict[str, Any]:
    """A new key of the transaction's tenant; the answer holds `secret_access_key`, the only time it is
    seen."""
    key_id, secret = new_key_pair()
    row = await conn.fetchrow(
        INSERT_KEY, key_id, encrypt_secret(installation_secret, secret), user_id, role, created_by, now
    )
    assert row is not None
    return {**dict(row), "secret_access_key": secret}


async def list_keys(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(LIST_KEYS)]


async def revoke_key(conn: asyncpg.Connection, key_id: str, now: datetime) -> dict[str, Any]:
    """Revokes the tenant's key (again: unchanged); NotFound when the tenant has no such key."""
    row = await conn.fetchrow(REVOKE_KEY, key_id, now)
    if row is None:
        raise NotFound(f"no access key {key_id!r}")
    return dict(row)
