"""AWS Signature Version 4, verified on the server (docs/aws-compat.md).

The signature is recomputed with botocore's own signer (`botocore.auth.SigV4Auth`: canonical request, string
to sign, signing key chain) over a `botocore.awsrequest.AWSRequest` rebuilt from what was received: the
method, the URL as sent (raw path and query), the headers named in SignedHeaders, the body, at the request's
X-Amz-Date and in its credential scope. Nothing of the algorithm is written here; only the comparison
(`hmac.compare_digest`) and the checks around it (scope, clock skew, body hash).

Two kinds of credentials (iotcloud.aws_credential, db/functions/097_aws.sql):
* an operator's access key (AKIA..., shared/access_keys.py), whose secret is stored encrypted;
* a device: access key id = its thing name (`<tenant>:<device_id>`), secret = the SHA-256 hex of its
  provision token (the server keeps only that hash).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import asyncpg
from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from fastapi import Request

from aws_api.errors import (
    AwsError,
    invalid_signature,
    missing_auth,
    throttled,
    unavailable,
    unrecognized_client,
)
from shared import ratelimits
from shared.access_keys import CREDENTIAL, decrypt_secret
from shared.errors import TooManyRequests
from shared.infra.db import DB_ERRORS, DB_UNAVAILABLE
from shared.observability.context import set_tenant
from shared.web.service_app import now_of

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = timedelta(minutes=5)
_AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+)\s*,\s*"
    r"SignedHeaders=(?P<signed>[a-z0-9;._-]+)\s*,\s*Signature=(?P<signature>[0-9a-f]{64})\s*$"
)
_MAX_KEY_ID = 300


@dataclass(frozen=True, slots=True)
class AwsPrincipal:
    """Who signed the request: an operator's access key (with its role) or a device (its thing name)."""

    tenant_id: str
    kind: Literal["operator", "device"]
    role: str | None  # the key's role (admin, operator, viewer); None for a device
    device_id: str | None  # the device's id; None for an operator key
    access_key_id: str


@dataclass(frozen=True, slots=True)
class _Authorization:
    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: list[str]
    signature: str


def _parse_authorization(value: str | None) -> _Authorization:
    if not value:
        raise missing_auth()
    match = _AUTH_RE.match(value.strip())
    if match is None:
        if not value.startswith(ALGORITHM):
            raise unrecognized_client()
        raise AwsError(400, "IncompleteSignatureException", "Authorization header requires Credential, "
                       "SignedHeaders and Signature, separated by commas.")  # fmt: skip
    parts = match["credential"].split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not 0 < len(parts[0]) <= _MAX_KEY_ID:
        raise AwsError(400, "IncompleteSignatureException", "Credential should be scoped correctly: "
                       "<key>/<date>/<region>/<service>/aws4_request.")  # fmt: skip
    signed = match["signed"].split(";")
    if "host" not in signed:
        raise invalid_signature("'Host' must be a signed header.")
    return _Authorization(parts[0], parts[1], parts[2], parts[3], signed, match["signature"])


def _check_time(request: Request, auth: _Authorization) -> str:
    """The request's X-Amz-Date, after the checks AWS makes: present, of the scope's day, within 5 min."""
    amz_date = request.headers.get("x-amz-date")
    if not amz_date or "x-amz-date" not in auth.signed_headers:
        raise AwsError(400, "IncompleteSignatureException", "The request must contain a signed X-Amz-Date.")
    try:
        signed_at = datetime.strptime(amz_date, SIGV4_TIMESTAMP).replace(tzinfo=UTC)
    except ValueError:
        raise invalid_signature(f"Invalid X-Amz-Date {amz_date!r}: expected YYYYMMDD'T'HHMMSS'Z'.") from None
    if auth.date != amz_date[:8]:
        raise invalid_signature(f"Credential should be scoped to a valid date: {amz_date[:8]}.")
    now = now_of(request)
    if abs(now - signed_at) > MAX_SKEW:
        stamp = now.astimezone(UTC).strftime(SIGV4_TIMESTAMP)
        raise invalid_signature(
            f"Signature expired: {amz_date} is now earlier than {(now - MAX_SKEW).strftime(SIGV4_TIMESTAMP)} "
            f"({stamp} - 5 min.)"
            if signed_at < now
            else f"Signature not yet current: {amz_date} is still later than "
            f"{(now + MAX_SKEW).strftime(SIGV4_TIMESTAMP)} ({stamp} + 5 min.)"
        )
    return amz_date


def _signature_of(request: Request, auth: _Authorization, secret: str, amz_date: str, body: bytes) -> str:
    """botocore's signature of the request as received (its signed headers only), with `secret`."""
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string") or b""
    url = f"{request.url.scheme}://{request.url.netloc}{raw_path.decode('latin-1')}"
    if query:
        url += "?" + query.decode("latin-1")
    headers: list[tuple[str, str]] = []
    for name in auth.signed_headers:
        values = request.headers.getlist(name)
        if not values:
            raise invalid_signature(f"Signed header {name!r} is missing from the request.")
        headers.extend((name, v) for v in values)
    aws_request = AWSRequest(method=request.method, url=url, data=body)
    for name, value in headers:  # HTTPHeaders keeps repeated headers; get_all joins them as AWS does
        aws_request.headers.add_header(name, value)
    aws_request.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(auth.access_key_id, secret), auth.service, auth.region)
    canonical = signer.canonical_request(aws_request)
    signature: str = signer.signature(signer.string_to_sign(aws_request, canonical), aws_request)
    return signature


async def verify(request: Request, service: str) -> tuple[AwsPrincipal, str]:
    """The request's signer and its secret (a device's is its token hash), or AwsError as AWS answers. A
    refused signature counts against the client's address (IOTCLOUD_DEVICE_AUTH_FAILURES_PER_MINUTE, then
    429 ThrottlingException); a signer's requests against its rate limits (operators': per user; devices':
    per device and tenant), as on the operator and device APIs (shared/ratelimits.py)."""
    try:
        principal, secret, user_id = await _verify(request, service)
    except AwsError as exc:
        if exc.status == 403:
            await _count_failure(request)
        raise
    state = request.app.state
    limits = ratelimits.limits_of(state)
    try:
        if principal.kind == "operator" and user_id is not None:
            await ratelimits.check_user(state.pool, limits, user_id, now_of(request))
        elif principal.kind == "device":
            await ratelimits.check_device(state.pool, limits, secret, now_of(request))
    except TooManyRequests as exc:
        raise throttled(exc.message) from None
    return principal, secret


async def _count_failure(request: Request) -> None:
    state = request.app.state
    address = request.client.host if request.client else "unknown"
    try:
        wait = await ratelimits.count_auth_failure(
            state.pool, ratelimits.limits_of(state), address, now_of(request)
        )
    except DB_ERRORS:
        return
    if wait is not None:
        raise throttled(f"Too many failed authentications from this address; retry in {wait} s") from None


async def _verify(request: Request, service: str) -> tuple[AwsPrincipal, str, str | None]:
    auth = _parse_authorization(request.headers.get("authorization"))
    settings = request.app.state.settings
    if auth.service != service:
        raise invalid_signature(f"Credential should be scoped to correct service: '{service}'.")
    if auth.region != settings.aws_region:
        raise invalid_signature(f"Credential should be scoped to a valid region, not '{auth.region}'.")
    if "x-amz-security-token" in request.headers:
        raise unrecognized_client()  # no temporary credentials are issued here
    amz_date = _check_time(request, auth)
    body = await request.body()
    claimed = request.headers.get("x-amz-content-sha256")
    if claimed is not None and claimed != hashlib.sha256(body).hexdigest():
        raise invalid_signature(
            "The provided 'x-amz-content-sha256' header does not match what was computed."
        )
    try:
        row = await request.app.state.pool.fetchrow(CREDENTIAL, auth.access_key_id)
    except DB_UNAVAILABLE:
        raise unavailable() from None
    except asyncpg.DataError:  # e.g. a NUL byte in the key id
        raise unrecognized_client() from None
    if row is None:
        raise unrecognized_client()
    secret = row["secret"]
    if row["kind"] == "operator":
        secret = decrypt_secret(request.app.state.secret, secret)
        if secret is None:  # encrypted under another installation secret
            raise unrecognized_client()
    expected = _signature_of(request, auth, secret, amz_date, body)
    if not hmac.compare_digest(expected, auth.signature):
        raise invalid_signature(
            "The request signature we calculated does not match the signature you provided. Check your AWS "
            "Secret Access Key and signing method. Consult the service documentation for details."
        )
    set_tenant(row["tenant_id"])
    principal = AwsPrincipal(row["tenant_id"], row["kind"], row["role"], row["device_id"], auth.access_key_id)
    return principal, secret, row["user_id"]


async def authenticate(request: Request, service: str) -> AwsPrincipal:
    """The signer of `request`, whose SigV4 signature for `service` (its signing name: "iot",
    "iot-jobs-data") is verified; raises AwsError (403 InvalidSignatureException, UnrecognizedClientException,
    MissingAuthenticationTokenException; 400 IncompleteSignatureException; 503) otherwise."""
    principal, _ = await verify(request, service)
    return principal
