"""Artifacts over real HTTP: upload (streamed, content-addressed, size-limited), list, read with the jobs that
reference them, delete (409 while a running job needs one); a job document's ${iotcloud:artifact-url:NAME}
resolved per device into a signed URL; the download with HTTP Range, and 403 for a tampered, expired, revoked
or foreign URL."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.artifacts import urls
from shared.artifacts.storage import CHUNK
from tests.conftest import Services, Tenant
from tests.support.pg import TestDB
from tests.support.servers import LiveServer
from ui_iot.app import create_app as create_ui_app

SIZE = 2 * CHUNK + 12_345  # several chunks and a partial one
SMALL_LIMIT = CHUNK + 100


@pytest.fixture(scope="module")
async def limited_ui(session_db: TestDB, services: Services) -> AsyncIterator[LiveServer]:
    """An operator API with a small artifact limit (same database and storage as the session's)."""
    settings = services.settings.model_copy(update={"artifact_max_bytes": SMALL_LIMIT})
    server = await LiveServer(create_ui_app(settings, session_db.app_url)).start()
    yield server
    await server.stop()


def _root(services: Services) -> Path:
    return services.settings.artifact_root()


async def _upload(api: httpx.AsyncClient, name: str, data: bytes, **kw: Any) -> httpx.Response:
    return await api.post(
        "/customer/artifacts",
        params={"name": name},
        content=data,
        headers={"Content-Type": "application/x-firmware"},
        **kw,
    )


def _staging_empty(services: Services) -> bool:
    staging = _root(services) / ".staging"
    return not staging.exists() or not any(staging.iterdir())


async def test_upload_is_streamed_content_addressed_and_deduplicated(
    services: Services, tenant: Tenant
) -> None:
    data = os.urandom(SIZE)
    sha = hashlib.sha256(data).hexdigest()
    async with tenant.api() as api:
        r = await _upload(api, "fw-1.0.bin", data)
        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["name"], body["sha256"], body["size"], body["content_type"]) == (
            "fw-1.0.bin",
            sha,
            SIZE,
            "application/x-firmware",
        )
        assert body["created_by"] == f"admin@{tenant.tenant_id}.test"
        stored = _root(services) / tenant.tenant_id / sha
        assert stored.read_bytes() == data

        # the same content under another name: one file
        r = await _upload(api, "fw-1.0-copy.bin", data)
        assert r.status_code == 201 and r.json()["sha256"] == sha
        assert [p.name for p in (_root(services) / tenant.tenant_id).iterdir()] == [sha]

        # a streamed (chunked) body, no Content-Length
        async def gen() -> AsyncIterator[bytes]:
            for i in range(0, len(data), 100_000):
                yield data[i : i + 100_000]

        r = await api.post("/customer/artifacts", params={"name": "fw-chunked"}, content=gen())
        assert r.status_code == 201, r.text
        assert (r.json()["sha256"], r.json()["content_type"]) == (sha, "application/octet-stream")

        assert (await _upload(api, "fw-1.0.bin", b"other")).status_code == 409
        bad = await _upload(api, "../etc/passwd", b"x")
        assert bad.status_code == 422, bad.text
        assert _staging_empty(services)

        page = (await api.get("/customer/artifacts", params={"limit": 2})).json()
        assert page["total"] == 3 and len(page["artifacts"]) == 2
        rest = (await api.get("/customer/artifacts", params={"limit": 2, "offset": 2})).json()
        names = {a["name"] for a in page["artifacts"] + rest["artifacts"]}
        assert names == {"fw-1.0.bin", "fw-1.0-copy.bin", "fw-chunked"}
        assert (await api.get("/customer/artifacts/nope")).status_code == 404


async def test_size_limit_413_leaves_nothing_behind(
    services: Services, tenant: Tenant, limited_ui: LiveServer
) -> None:
    async with httpx.AsyncClient(base_url=limited_ui.url, headers=tenant.auth, timeout=30) as api:
        ok = await _upload(api, "small", os.urandom(SMALL_LIMIT))
        assert ok.status_code == 201, ok.text
        big = os.urandom(SMALL_LIMIT + 1)
        r = await _upload(api, "big", big)  # declared too large
        assert r.status_code == 413, r.text

        async def gen() -> AsyncIterator[bytes]:  # streamed: found too large on the way
            for i in range(0, len(big), 64_000):
                yield big[i : i + 64_000]

        r = await api.post("/customer/artifacts", params={"name": "big"}, content=gen())
        assert r.status_code == 413, r.text
        assert r.json()["error"] == "payload_too_large"
        assert (await api.get("/customer/artifacts/big")).status_code == 404
    assert not (_root(services) / tenant.tenant_id / hashlib.sha256(big).hexdigest()).exists()
    assert _staging_empty(services)


async def _job(api: httpx.AsyncClient, params: dict[str, Any], **target: Any) -> httpx.Response:
    return await api.post(
        "/customer/jobs", json={"document_type": "ota", "document_params": params, **target}
    )


async def test_delete_is_refused_while_a_running_job_uses_it(services: Services, tenant: Tenant) -> None:
    data = os.urandom(5000)
    sha = hashlib.sha256(data).hexdigest()
    devs = await tenant.create_devices(1, prefix="del")
    async with tenant.api() as api:
        assert (await _upload(api, "a", data)).status_code == 201
        assert (await _upload(api, "b", data)).status_code == 201
        missing = await _job(api, {"url": "${iotcloud:artifact-url:nope}"}, target_device_id=devs[0])
        assert missing.status_code == 400
        assert missing.json()["unknown_artifacts"] == ["nope"]
        r = await _job(api, {"url": "${iotcloud:artifact-url:a}"}, target_device_id=devs[0])
        assert r.status_code == 201, r.text
        job = r.json()
        assert job["artifacts"] == ["a"]

        got = (await api.get("/customer/artifacts/a")).json()
        assert [(j["job_id"], j["status"], j["active"]) for j in got["jobs"]] == [
            (job["job_id"], "IN_PROGRESS", True)
        ]
        refused = await api.delete("/customer/artifacts/a")
        assert refused.status_code == 409 and refused.json()["jobs"] == [job["job_id"]]

        assert (await api.delete(f"/customer/jobs/{job['job_id']}")).status_code == 200
        assert (await api.delete("/customer/artifacts/a")).status_code == 204
        assert (_root(services) / tenant.tenant_id / sha).exists()  # "b" still holds the content
        assert (await api.delete("/customer/artifacts/b")).status_code == 204
        assert not (_root(services) / tenant.tenant_id / sha).exists()
        assert (await api.delete("/customer/artifacts/b")).status_code == 404


async def _artifact_job(tenant: Tenant, data: bytes, prefix: str) -> tuple[str, str]:
    dev = (await tenant.create_devices(1, prefix=prefix))[0]
    async with tenant.api() as api:
        assert (await _upload(api, f"{prefix}.bin", data)).status_code == 201
        params = {"firmware": "${iotcloud:artifact-url:" + prefix + ".bin}", "note": "v2 ${iotcloud:x}"}
        r = await _job(api, params, target_device_id=dev)
        assert r.status_code == 201, r.text
    return dev, r.json()["job_id"]


async def test_device_gets_a_signed_url_and_downloads_with_range(services: Services, tenant: Tenant) -> None:
    data = os.urandom(SIZE)
    sha = hashlib.sha256(data).hexdigest()
    dev, job = await _artifact_job(tenant, data, "ota")
    async with tenant.device_api(dev) as d:
        pending = (await d.get("/device/v1/jobs/pending")).json()["jobs"]
        (work,) = pending
        link = work["artifacts"]["ota.bin"]
        assert (link["sha256"], link["size"]) == (sha, SIZE)
        assert work["document"]["params"]["firmware"] == link["url"]
        assert work["document"]["params"]["note"] == "v2 ${iotcloud:x}"
        assert link["url"].startswith(services.device.url + "/device/v1/artifacts/")
        single = (await d.get(f"/device/v1/jobs/{job}/execution")).json()
        assert single["artifacts"]["ota.bin"]["sha256"] == sha
        assert single["document"]["params"]["firmware"].startswith(services.device.url)

    async with httpx.AsyncClient(timeout=30) as plain:  # the URL alone is the credential
        full = await plain.get(link["url"])
        assert full.status_code == 200
        assert full.content == data and hashlib.sha256(full.content).hexdigest() == sha
        assert full.headers["etag"] == f'"{sha}"' and full.headers["accept-ranges"] == "bytes"
        assert full.headers["content-type"] == "application/x-firmware"

        # a download cut in the middle, resumed
        half = SIZE // 2 + 7
        first = await plain.get(link["url"], headers={"Range": f"bytes=0-{half - 1}"})
        assert first.status_code == 206
        assert first.headers["content-range"] == f"bytes 0-{half - 1}/{SIZE}"
        rest = await plain.get(link["url"], headers={"Range": f"bytes={half}-", "If-Range": f'"{sha}"'})
        assert rest.status_code == 206 and rest.headers["content-range"] == f"bytes {half}-{SIZE - 1}/{SIZE}"
        resumed = first.content + rest.content
        assert resumed == data and hashlib.sha256(resumed).hexdigest() == sha

        # a stale If-Range: the whole file again
        stale = await plain.get(link["url"], headers={"Range": f"bytes={half}-", "If-Range": '"other"'})
        assert stale.status_code == 200 and stale.content == data
        bad = await plain.get(link["url"], headers={"Range": f"bytes={SIZE}-{SIZE + 10}"})
        assert bad.status_code == 416 and bad.headers["content-range"] == f"bytes */{SIZE}"
        assert bad.json()["error"] == "range_not_satisfiable"
        malformed = await plain.get(link["url"], headers={"Range": "pages=1-2"})
        assert malformed.status_code == 400 and malformed.json()["error"] == "bad_request"
        # two ranges at once: multipart/byteranges
        multi = await plain.get(link["url"], headers={"Range": "bytes=0-9,20-29"})
        assert multi.status_code == 206 and multi.headers["content-type"].startswith("multipart/byteranges")
        head = await plain.head(link["url"])
        assert head.status_code == 200 and head.headers["content-length"] == str(SIZE)

        # the device's own token may go along; another device's may not
        async with tenant.device_api(dev) as d:
            assert (await d.get(link["url"], headers={"Range": "bytes=0-9"})).content == data[:10]


async def test_tampered_expired_foreign_or_revoked_urls_get_403(
    clock: Services, tenant: Tenant, other_tenant: Tenant
) -> None:
    data = os.urandom(1000)
    t0 = datetime(2031, 3, 1, tzinfo=UTC)
    clock.set_clock(t0)
    dev, _ = await _artifact_job(tenant, data, "sec")
    other_dev, _ = await _artifact_job(other_tenant, data, "sec")  # the same content, another tenant
    async with tenant.device_api(dev) as d:
        url = (await d.get("/device/v1/jobs/pending")).json()["jobs"][0]["artifacts"]["sec.bin"]["url"]
    token = url.rsplit("/", 1)[1]
    base = url.rsplit("/", 1)[0]
    async with httpx.AsyncClient(timeout=30) as plain:
        assert (await plain.get(url)).status_code == 200
        head, payload, sig = token.split(".")
        tampered = f"{head}.{payload}.{sig[:-2]}{'AA' if sig[-2:] != 'AA' else 'BB'}"
        r = await plain.get(f"{base}/{tampered}")
        assert r.status_code == 403 and r.json()["error"] == "forbidden"
        assert (await plain.get(f"{base}/not-a-token")).status_code == 403

        # a URL for the other tenant's content, signed with another secret: 403; with the right one it works
        forged = urls.sign(
            "wrong-secret",
            other_tenant.tenant_id,
            other_dev,
            hashlib.sha256(data).hexdigest(),
            t0,
            timedelta(hours=1),
        )
        assert (await plain.get(f"{base}/{forged}")).status_code == 403
        # a device of the other tenant presenting this tenant's URL with its own token
        foreign = await plain.get(url, headers={"X-Provision-Token": other_tenant.tokens[other_dev]})
        assert foreign.status_code == 403

        clock.set_clock(t0 + timedelta(seconds=3599))
        assert (await plain.get(url)).status_code == 200
        clock.set_clock(t0 + timedelta(seconds=3600))
        expired = await plain.get(url)
        assert expired.status_code == 403 and "expired" in expired.json()["detail"]

        clock.set_clock(t0)
        async with tenant.api() as api:
            assert (await api.post(f"/customer/devices/{dev}/revoke")).status_code == 200
        assert (await plain.get(url)).status_code == 403


async def test_delete_racing_a_job_that_references_it(tenant: Tenant) -> None:
    """An artifact deleted while a job referencing it is created: either the job exists and the artifact
    stays (delete 409), or the artifact is gone and the job was refused (400). Never a job without its file."""
    dev = (await tenant.create_devices(1, prefix="race-art"))[0]
    async with tenant.api() as api:
        outcomes = set()
        for i in range(20):
            name = f"race-{i}"
            assert (await _upload(api, name, os.urandom(100))).status_code == 201
            job, gone = await asyncio.gather(
                _job(api, {"u": "${iotcloud:artifact-url:" + name + "}"}, target_device_id=dev),
                api.delete(f"/customer/artifacts/{name}"),
            )
            exists = (await api.get(f"/customer/artifacts/{name}")).status_code == 200
            if job.status_code == 201:
                assert (gone.status_code, exists) == (409, True), (i, gone.text)
                await api.delete(f"/customer/jobs/{job.json()['job_id']}")
            else:
                assert (job.status_code, gone.status_code, exists) == (400, 204, False), (i, job.text)
            outcomes.add(job.status_code)
        print(f"outcomes seen: {sorted(outcomes)}")
