"""SigV4 on the AWS-compatible API (docs/aws-compat.md), with unmodified boto3 and with requests signed by hand
through botocore's signer: operators' access keys (created once, stored encrypted, revoked, their creator
disabled) and devices' credentials (thing name, SHA-256 of the token; revoked, rotated); a bad signature, a
tampered body, a skewed clock, a wrong region or service, no signature: AWS's errors, never data."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from shared.access_keys import decrypt_secret
from shared.auth import Principal, issue_token
from shared.infra.db import connect
from shared.ratelimits import RateLimits
from tests.conftest import TEST_SECRET, Tenant
from tests.integration.aws_support import (
    REGION,
    aws,
    aws_server,
    call,
    client,
    create_job,
    create_key,
    device_client,
)
from tests.integration.mqtt_support import exact_after
from tests.integration.test_cli_admin import IOTCLOUD
from tests.support.checkout import checkout_env
from tests.support.servers import LiveServer

__all__ = ["aws", "aws_server", "exact_after"]  # fixtures
pytestmark = pytest.mark.usefixtures("exact_after")


def _code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


async def _pending(c: Any, thing: str) -> dict[str, Any]:
    result: dict[str, Any] = await call(c.get_pending_job_executions, thingName=thing)
    return result


def _signed(
    url: str, key: str, secret: str, *, method: str = "GET", body: bytes = b"", service: str = "iot-jobs-data",
    region: str = REGION, at: datetime | None = None,
) -> AWSRequest:  # fmt: skip
    """A request signed by botocore's signer as boto3 signs it, at `at` (default now)."""
    request = AWSRequest(method=method, url=url, data=body, headers={"Content-Type": "application/json"})
    signer = SigV4Auth(Credentials(key, secret), service, region)
    stamp = (at or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    request.context["timestamp"] = stamp
    request.headers["X-Amz-Date"] = stamp
    canonical = signer.canonical_request(request)
    signature = signer.signature(signer.string_to_sign(request, canonical), request)
    signer._inject_signature_to_request(request, signature)
    return request


async def _send(request: AWSRequest, body: bytes | None = None) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.request(
            request.method,
            request.url,
            headers=dict(request.headers.items()),
            content=request.body if body is None else body,
        )


async def test_access_keys_api(aws: LiveServer, tenant: Tenant, other_tenant: Tenant) -> None:
    key = await create_key(tenant)
    assert key["access_key_id"].startswith("AKIA") and len(key["access_key_id"]) == 20
    assert len(key["secret_access_key"]) == 40 and key["role"] == "admin" and key["revoked_at"] is None
    async with tenant.api() as api:
        listed = (await api.get("/customer/access-keys")).json()["access_keys"]
    assert [k["access_key_id"] for k in listed] == [key["access_key_id"]]
    assert (
        "secret_access_key" not in listed[0] and listed[0]["created_by"] == f"admin@{tenant.tenant_id}.test"
    )
    owner = await connect(tenant.services.db.owner_url)
    try:
        stored = await owner.fetchval(
            "SELECT secret_encrypted FROM aws_access_keys WHERE access_key_id = $1", key["access_key_id"]
        )
    finally:
        await owner.close()
    assert key["secret_access_key"] not in stored  # encrypted with the installation secret
    assert decrypt_secret(TEST_SECRET, stored) == key["secret_access_key"]
    assert decrypt_secret("another-installation", stored) is None
    async with other_tenant.api() as api:  # another tenant's key: not found, untouched
        r = await api.post(f"/customer/access-keys/{key['access_key_id']}/revoke")
        assert r.status_code == 404, r.text
        assert (await api.get("/customer/access-keys")).json()["access_keys"] == []
        assert (await api.post("/customer/access-keys/not-a-key/revoke")).status_code == 422
    async with tenant.api() as api:
        first = await api.post(f"/customer/access-keys/{key['access_key_id']}/revoke")
        again = await api.post(f"/customer/access-keys/{key['access_key_id']}/revoke")
    assert first.status_code == again.status_code == 200
    assert first.json()["revoked_at"] is not None and again.json()["revoked_at"] == first.json()["revoked_at"]
    async with tenant.api() as api:
        entries = (await api.get("/customer/audit?target_type=access_key")).json()["entries"]
    assert [(e["action"], e["target_id"], e["details"]) for e in entries] == [
        ("access_key.revoked", key["access_key_id"], {}),  # once: the second revoke changed nothing
        ("access_key.created", key["access_key_id"], {"role": "admin"}),
    ]


async def test_operator_keys_sign_and_stop_when_revoked_or_creator_disabled(
    aws: LiveServer, tenant: Tenant
) -> None:
    (dev,) = await tenant.create_devices(1, prefix="ak")
    thing = f"{tenant.tenant_id}:{dev}"
    key = await create_key(tenant)
    good = client(aws, "iot-jobs-data", key["access_key_id"], key["secret_access_key"])
    # the signature is good: past it, the data plane is for devices
    with pytest.raises(ClientError) as err:
        await _pending(good, thing)
    assert _code(err) == "ForbiddenException"

    bad = client(aws, "iot-jobs-data", key["access_key_id"], "x" * 40)
    with pytest.raises(ClientError) as err:
        await _pending(bad, thing)
    assert _code(err) == "InvalidSignatureException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

    unknown = client(aws, "iot-jobs-data", "AKIAAAAAAAAAAAAAAAAA", key["secret_access_key"])
    with pytest.raises(ClientError) as err:
        await _pending(unknown, thing)
    assert _code(err) == "UnrecognizedClientException"

    # an operator's key stops working when the operator is disabled, and when revoked
    async with tenant.api() as api:
        r = await api.post(
            "/customer/users", json={"email": f"op@{tenant.tenant_id}.test", "role": "operator"}
        )
        assert r.status_code == 201, r.text
        user = r.json()
    op_token = issue_token(
        Principal(tenant.tenant_id, user["user_id"], user["email"], "operator"), TEST_SECRET, 600
    )
    async with tenant.api() as api:
        r = await api.post("/customer/access-keys", headers={"Authorization": f"Bearer {op_token}"})
        assert r.status_code == 201 and r.json()["role"] == "operator", r.text
        op_key = r.json()
        ops = client(aws, "iot-jobs-data", op_key["access_key_id"], op_key["secret_access_key"])
        with pytest.raises(ClientError) as err:
            await _pending(ops, thing)
        assert _code(err) == "ForbiddenException"
        # an operator may not revoke the admin's key; the admin disables the operator
        r = await api.post(
            f"/customer/access-keys/{key['access_key_id']}/revoke",
            headers={"Authorization": f"Bearer {op_token}"},
        )
        assert r.status_code == 403, r.text
        assert (
            await api.patch(f"/customer/users/{user['user_id']}", json={"disabled": True})
        ).status_code == 200
        with pytest.raises(ClientError) as err:
            await _pending(ops, thing)
        assert _code(err) == "UnrecognizedClientException"
        assert (await api.post(f"/customer/access-keys/{key['access_key_id']}/revoke")).status_code == 200
    with pytest.raises(ClientError) as err:
        await _pending(good, thing)
    assert _code(err) == "UnrecognizedClientException"


async def test_device_credentials(aws: LiveServer, tenant: Tenant) -> None:
    a, b = await tenant.create_devices(2, prefix="dc")
    await create_job(tenant, target_device_id=a)
    thing = f"{tenant.tenant_id}:{a}"
    assert len((await _pending(device_client(aws, tenant, a), thing))["queuedJobs"]) == 1
    # the raw token is not the SigV4 secret: its SHA-256 is
    raw = client(aws, "iot-jobs-data", thing, tenant.tokens[a])
    with pytest.raises(ClientError) as err:
        await _pending(raw, thing)
    assert _code(err) == "InvalidSignatureException"
    # another device's secret for this thing name
    other_secret = hashlib.sha256(tenant.tokens[b].encode()).hexdigest()
    with pytest.raises(ClientError) as err:
        await _pending(client(aws, "iot-jobs-data", thing, other_secret), thing)
    assert _code(err) == "InvalidSignatureException"
    # a rotated token: the old hash stops, the new one works
    old = device_client(aws, tenant, a)
    async with tenant.api() as api:
        r = await api.post(f"/customer/devices/{a}/rotate-token")
        assert r.status_code == 200, r.text
        tenant.tokens[a] = r.json()["provision_token"]
    with pytest.raises(ClientError) as err:
        await _pending(old, thing)
    assert _code(err) == "InvalidSignatureException"
    new = device_client(aws, tenant, a)
    assert len((await _pending(new, thing))["queuedJobs"]) == 1
    # a revoked device: unrecognized
    async with tenant.api() as api:
        assert (await api.post(f"/customer/devices/{a}/revoke")).status_code == 200
    with pytest.raises(ClientError) as err:
        await _pending(new, thing)
    assert _code(err) == "UnrecognizedClientException"


async def test_skewed_clock(aws: LiveServer, tenant: Tenant) -> None:
    (dev,) = await tenant.create_devices(1, prefix="sk")
    thing = f"{tenant.tenant_id}:{dev}"
    c = device_client(aws, tenant, dev)
    real = datetime.now(UTC)
    for offset, words in (
        (timedelta(minutes=10), "Signature expired"),
        (-timedelta(minutes=10), "not yet current"),
    ):
        aws.app.state.clock = lambda offset=offset: datetime.now(UTC) + offset  # the server's clock is off
        with pytest.raises(ClientError) as err:
            await _pending(c, thing)
        assert _code(err) == "InvalidSignatureException" and words in err.value.response["Error"]["Message"]
    aws.app.state.clock = lambda: datetime.now(UTC) + timedelta(minutes=4)  # within 5 minutes
    assert (await _pending(c, thing))["queuedJobs"] == []
    # signed by hand 10 minutes in the past, the server's clock right
    aws.app.state.clock = lambda: datetime.now(UTC)
    secret = hashlib.sha256(tenant.tokens[dev].encode()).hexdigest()
    r = await _send(_signed(f"{aws.url}/things/{thing}/jobs", thing, secret, at=real - timedelta(minutes=10)))
    assert r.status_code == 403 and r.headers["x-amzn-ErrorType"] == "InvalidSignatureException"
    assert "Signature expired" in r.json()["message"]
    r = await _send(_signed(f"{aws.url}/things/{thing}/jobs", thing, secret))
    assert r.status_code == 200 and r.json() == {"inProgressJobs": [], "queuedJobs": []}


async def test_tampered_unsigned_and_misscoped_requests(aws: LiveServer, tenant: Tenant) -> None:
    (dev,) = await tenant.create_devices(1, prefix="tm")
    job = await create_job(tenant, target_device_id=dev)
    thing = f"{tenant.tenant_id}:{dev}"
    secret = hashlib.sha256(tenant.tokens[dev].encode()).hexdigest()
    url = f"{aws.url}/things/{thing}/jobs/{job}"
    body = b'{"status": "IN_PROGRESS"}'
    # the body changed after signing: refused, nothing moved
    r = await _send(_signed(url, thing, secret, method="POST", body=body), b'{"status": "SUCCEEDED"}')
    assert r.status_code == 403 and r.headers["x-amzn-ErrorType"] == "InvalidSignatureException", r.text
    # no signature at all
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.get(f"{aws.url}/jobs-data/things/{thing}/jobs")
        assert r.status_code == 403 and r.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
        assert set(r.json()) == {"message"}
        r = await http.get(f"{aws.url}/no/such/path")  # AWS's shape even for what no route serves
        assert r.status_code == 404 and r.headers["x-amzn-ErrorType"] == "ResourceNotFoundException"
    # signed for another region, or for the control plane's service on the data plane's path
    r = await _send(_signed(url, thing, secret, method="POST", body=body, region="eu-west-1"))
    assert r.headers["x-amzn-ErrorType"] == "InvalidSignatureException" and "region" in r.json()["message"]
    r = await _send(_signed(f"{aws.url}/jobs-data/things/{thing}/jobs", thing, secret, service="iot"))
    assert r.headers["x-amzn-ErrorType"] == "InvalidSignatureException" and "service" in r.json()["message"]
    async with tenant.device_api(dev) as api:
        assert (await api.get(f"/device/v1/jobs/{job}/execution")).json()["status"] == "QUEUED"
    # signed right: moved; a refusal carries the current state, as AWS's does
    r = await _send(_signed(url, thing, secret, method="POST", body=body))
    assert r.status_code == 200, r.text
    stale = b'{"status": "SUCCEEDED", "expectedVersion": 1}'
    r = await _send(_signed(url, thing, secret, method="POST", body=stale))
    assert r.status_code == 409 and r.headers["x-amzn-ErrorType"] == "InvalidStateTransitionException"
    assert r.json()["executionState"] == {"status": "IN_PROGRESS", "versionNumber": 2}


async def test_the_data_plane_endpoint_with_its_own_path(aws: LiveServer, tenant: Tenant) -> None:
    """boto3 with endpoint_url ending in /jobs-data reaches the same routes (and signs that path)."""
    (dev,) = await tenant.create_devices(1, prefix="ep")
    job = await create_job(tenant, target_device_id=dev)
    c = device_client(aws, tenant, dev, endpoint_url=f"{aws.url}/jobs-data")
    pending = await _pending(c, f"{tenant.tenant_id}:{dev}")
    assert [j["jobId"] for j in pending["queuedJobs"]] == [job]


async def test_cli_creates_a_key_that_signs(aws: LiveServer, tenant: Tenant, tmp_path: Path) -> None:
    """`iotcloud create-access-key` as an admin runs it on the host (same database and installation secret)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IOTCLOUD_", "DATABASE_URL"))}
    env.update(
        DATABASE_URL=tenant.services.db.owner_url, IOTCLOUD_HOME=str(tmp_path), IOTCLOUD_SECRET=TEST_SECRET
    )
    email = f"admin@{tenant.tenant_id}.test"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [IOTCLOUD, "create-access-key", *args], env=checkout_env(env), stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    out = await asyncio.to_thread(run, "--tenant", tenant.tenant_id, "--email", email)
    assert out.returncode == 0, out.stderr
    lines = dict(line.split(" = ") for line in out.stdout.splitlines())
    assert "not shown again" in out.stderr
    c = client(aws, "iot-jobs-data", lines["aws_access_key_id"], lines["aws_secret_access_key"])
    with pytest.raises(ClientError) as err:  # signed right; the data plane is for devices
        await _pending(c, f"{tenant.tenant_id}:x")
    assert _code(err) == "ForbiddenException"
    async with tenant.api() as api:
        entries = (await api.get("/customer/audit?action=access_key.created")).json()["entries"]
    assert [(e["actor"], e["target_id"], e["details"]) for e in entries] == [
        ("cli", lines["aws_access_key_id"], {"role": "admin", "for": email})
    ]
    wrong = await asyncio.to_thread(run, "--tenant", "no-such-tenant", "--email", email)
    assert wrong.returncode == 1 and "no user" in wrong.stderr and "Traceback" not in wrong.stderr


async def test_rate_limits_and_failed_signatures_throttle(aws: LiveServer, tenant: Tenant) -> None:
    """The signers' rate limits and the bad-credentials limiter of the other APIs, as ThrottlingException."""
    (dev,) = await tenant.create_devices(1, prefix="rl")
    thing = f"{tenant.tenant_id}:{dev}"
    key = await create_key(tenant)
    aws.app.state.rate_limits = RateLimits(
        per_device=2, per_tenant=0, per_user=2, window_seconds=3600, auth_failures_per_minute=3
    )
    try:
        c = device_client(aws, tenant, dev)
        for _ in range(2):
            await _pending(c, thing)
        with pytest.raises(c.exceptions.ThrottlingException):
            await _pending(c, thing)
        op = client(aws, "iot-jobs-data", key["access_key_id"], key["secret_access_key"])
        for code in ("ForbiddenException", "ForbiddenException", "ThrottlingException"):
            with pytest.raises(ClientError) as err:
                await _pending(op, thing)
            assert _code(err) == code
        bad = client(aws, "iot-jobs-data", thing, "0" * 64)
        codes = []
        for _ in range(4):
            with pytest.raises(ClientError) as err:
                await _pending(bad, thing)
            codes.append(_code(err))
        # (other tests' failures from 127.0.0.1 in this minute count too)
        assert codes[-1] == "ThrottlingException", codes
        assert set(codes) <= {"InvalidSignatureException", "ThrottlingException"}, codes
    finally:
        del aws.app.state.rate_limits


SHORT_SCOPE = (
    "AWS4-HMAC-SHA256 Credential=k/20261201/us-east-1/iot-jobs-data, SignedHeaders=host;x-amz-date, "
    "Signature=" + "0" * 64
)


SHORT_SCOPE = (
    "AWS4-HMAC-SHA256 Credential=k/20261201/us-east-1/iot-jobs-data, SignedHeaders=host;x-amz-date, "
    "Signature=" + "0" * 64
)


@pytest.mark.parametrize(
    ("authorization", "extra", "status", "code"),
    [
        ("AWS4-HMAC-SHA256 Credential=abc", {}, 400, "IncompleteSignatureException"),
        (SHORT_SCOPE, {}, 400, "IncompleteSignatureException"),
        ("Bearer abc", {}, 403, "UnrecognizedClientException"),
        ("SIGNED", {"X-Amz-Security-Token": "t"}, 403, "UnrecognizedClientException"),
        ("SIGNED-NO-DATE", {}, 400, "IncompleteSignatureException"),
        ("SIGNED-LONG", {}, 400, "IncompleteSignatureException"),
    ],
)
async def test_malformed_authorization(
    aws: LiveServer, tenant: Tenant, authorization: str, extra: dict[str, str], status: int, code: str
) -> None:
    (dev,) = await tenant.create_devices(1, prefix="ma")
    thing = f"{tenant.tenant_id}:{dev}"
    url = f"{aws.url}/jobs-data/things/{thing}/jobs"
    secret = hashlib.sha256(tenant.tokens[dev].encode()).hexdigest()
    if authorization.startswith("SIGNED"):
        key = "k" * 400 if authorization == "SIGNED-LONG" else thing
        signed = _signed(url, key, secret)
        headers = dict(signed.headers.items())
        if authorization == "SIGNED-NO-DATE":
            headers["Authorization"] = headers["Authorization"].replace("host;x-amz-date", "host")
    else:
        headers = {"Authorization": authorization}
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.get(url, headers={**headers, **extra})
    assert (r.status_code, r.headers["x-amzn-ErrorType"]) == (status, code), r.text
    assert set(r.json()) == {"message"}
