"""Artifact downloads: the signed URL a device received with its job (shared/artifacts/urls.py), served with
HTTP Range support (206 with Content-Range, 416 for a range past the end, If-Range), ETag = the SHA-256."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import FileResponse, StreamingResponse

from ingest_iot.deps import TOKEN_MAX_LENGTH
from shared.artifacts import urls
from shared.artifacts.storage import content_key
from shared.auth import token_hash
from shared.errors import Forbidden, NotFound
from shared.infra.db import tenant_tx
from shared.web.responses import UNAVAILABLE, error
from shared.web.service_app import Now

router = APIRouter(prefix="/device/v1/artifacts", tags=["artifacts"], responses=UNAVAILABLE)

# The device the URL was issued to must still be active; the content must still be the tenant's.
DOWNLOAD_LOOKUP = """
SELECT (SELECT d.status FROM device_state d WHERE d.device_id = $1) AS device_status,
       (SELECT a.content_type FROM artifacts a WHERE a.sha256 = $2 ORDER BY a.created_at LIMIT 1)
           AS content_type
"""
# The caller's own provision token, when it sends one: it must be the device the URL was issued to.
TOKEN_OWNER = "SELECT tenant_id, device_id, status FROM iotcloud.device_auth($1, $2, $3)"  # noqa: S105

FORBIDDEN = error(403, "the URL's signature is invalid or expired, or it was issued to another device")
GONE = error(404, "the artifact no longer exists")
# Starlette's own answers to a bad Range (plain text, with `Content-Range: bytes */size` on a 416)
RANGE: dict[int | str, dict[str, Any]] = {
    416: {"description": "the requested range is not satisfiable", "content": {"text/plain": {}}},
    400: {"description": "malformed Range header", "content": {"text/plain": {}}},
}

BINARY: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
    206: {"description": "the requested range (Content-Range)"},
}


@router.get("/{token}", response_class=Response, responses=BINARY | FORBIDDEN | GONE | RANGE)
async def download(
    token: str,
    request: Request,
    now: Now,
    x_provision_token: Annotated[str | None, Header(max_length=TOKEN_MAX_LENGTH)] = None,
) -> Response:
    """The artifact's bytes, to the device its job was sent to, until the URL expires. No other credential
    is needed; a request that sends an X-Provision-Token must send the token of that device."""
    state = request.app.state
    grant = urls.verify(state.secret, token, now)
    pool = state.pool
    if x_provision_token is not None:
        owner = await pool.fetchrow(
            TOKEN_OWNER, token_hash(x_provision_token), state.settings.last_seen_interval_seconds, now
        )
        if owner is None or (owner["tenant_id"], owner["device_id"]) != (grant.tenant_id, grant.device_id):
            raise Forbidden("this artifact URL was issued to another device")
    async with tenant_tx(pool, grant.tenant_id) as conn:
        row = await conn.fetchrow(DOWNLOAD_LOOKUP, grant.device_id, grant.sha256)
    assert row is not None
    if row["device_status"] != "ACTIVE":
        raise Forbidden("the device this URL was issued to is unknown or revoked")
    if row["content_type"] is None:
        raise NotFound("the artifact no longer exists")
    key = content_key(grant.tenant_id, grant.sha256)
    storage = state.artifacts
    headers = {"ETag": f'"{grant.sha256}"', "Cache-Control": "private, max-age=0"}
    path = storage.local_path(key)
    if path is not None:
        if not path.is_file():
            raise NotFound("the artifact's content is missing from the storage")
        return FileResponse(path, media_type=row["content_type"], headers=headers)
    # a store without local files: the whole content, streamed (no Range)
    return StreamingResponse(
        storage.open_range(key, 0, 2**63 - 1), media_type=row["content_type"], headers=headers
    )
