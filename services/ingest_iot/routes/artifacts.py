"""Artifact downloads: the signed URL a device received with its job (shared/artifacts/urls.py), served with
HTTP Range support (206 with Content-Range, 416 for a range past the end, If-Range), ETag = the SHA-256."""

from __future__ import annotations

import asyncio
import os
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import FileResponse, StreamingResponse
from starlette.datastructures import Headers
from starlette.responses import MalformedRangeHeader, RangeNotSatisfiable
from starlette.types import Receive, Scope, Send

from ingest_iot.deps import TOKEN_MAX_LENGTH
from shared.artifacts import urls
from shared.artifacts.storage import content_key
from shared.auth import token_hash
from shared.errors import Forbidden, NotFound
from shared.infra.db import tenant_tx
from shared.web.http import error_response
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
RANGE = error(416, "the requested range is not satisfiable (`Content-Range: bytes */size`)") | error(
    400, "malformed Range header"
)


class ArtifactFileResponse(FileResponse):
    """Starlette's FileResponse (Range, If-Range, multipart ranges, HEAD), whose refusals of a Range are JSON
    like every other error of the API: the header is checked first with Starlette's own parser."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        wanted, if_range = headers.get("range"), headers.get("if-range")
        if (
            wanted is not None
            and self.stat_result is not None
            and scope["method"].upper() in ("GET", "HEAD")
            and (if_range is None or self._should_use_range(if_range))
        ):
            try:
                self._parse_range_header(wanted, self.stat_result.st_size)
            except MalformedRangeHeader as exc:
                await error_response(400, "bad_request", f"malformed Range header: {exc.content}")(
                    scope, receive, send
                )
                return
            except RangeNotSatisfiable as exc:
                await error_response(
                    416,
                    "range_not_satisfiable",
                    f"the range is not within the {exc.max_size} bytes of the artifact",
                    headers={"Content-Range": f"bytes */{exc.max_size}"},
                )(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


BINARY: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
    206: {"description": "the requested range (Content-Range)"},
}


@router.head("/{token}", response_class=Response, include_in_schema=False)  # the same, headers only
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
        try:
            stat = await asyncio.to_thread(os.stat, path)
        except FileNotFoundError:
            raise NotFound("the artifact's content is missing from the storage") from None
        return ArtifactFileResponse(path, media_type=row["content_type"], headers=headers, stat_result=stat)
    # a store without local files: the whole content, streamed (no Range)
    return StreamingResponse(
        storage.open_range(key, 0, 2**63 - 1), media_type=row["content_type"], headers=headers
    )
