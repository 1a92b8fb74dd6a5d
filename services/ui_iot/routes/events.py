"""The console's live updates (docs/live.md): `GET /customer/events`, a server-sent events stream of what
changes in the caller's tenant, from the process's console hub (shared/console_events/hub.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

import asyncpg
import orjson
from fastapi import APIRouter, Depends, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from shared.auth import Principal, decode_token
from shared.console_events.hub import ConsoleHub
from shared.errors import Unauthorized, Unavailable
from shared.infra.db import DB_ERRORS, tenant_tx
from shared.tenants import current_role
from shared.web.responses import BEARER, UNAVAILABLE, Responses
from ui_iot.deps import CurrentPrincipal, PoolDep, ReadDB, oauth2_scheme

router = APIRouter(prefix="/customer", tags=["events"], responses=BEARER | UNAVAILABLE)

SEND_TIMEOUT = 30.0  # a send blocked this long (a client that stopped reading) ends the stream

STREAM: Responses = {
    200: {
        "description": "`text/event-stream`, open until the session ends or the server stops. Events: "
        '`ready` (connected), `jobs`, `devices`, `groups` with data `{"ids": [...] or null}` (what changed; '
        "null: anything of that kind), at most one per kind every 200 ms; `resync` (events may have been "
        "lost: refetch everything). Comment lines keep it open.",
        "content": {
            "text/event-stream": {
                "schema": {
                    "type": "object",
                    "description": "One event of the stream (comment lines aside)",
                    "properties": {
                        "event": {"type": "string", "enum": ["ready", "jobs", "devices", "groups", "resync"]},
                        "data": {"type": "string", "description": 'JSON: `{}` or `{"ids": [...] | null}`'},
                    },
                    "required": ["event", "data"],
                }
            }
        },
    }
}


async def session_holds(pool: asyncpg.Pool, secret: str, token: str, principal: Principal) -> bool:
    """Whether the stream's session still holds: the token has not expired, the user still exists and is
    enabled. A database outage does not end it (the stream's events stop meanwhile anyway)."""
    try:
        decode_token(token, secret)
    except Unauthorized:
        return False
    try:
        async with tenant_tx(pool, principal.tenant_id) as conn:
            return await current_role(conn, principal) is not None
    except DB_ERRORS:
        return True


async def _stream(
    hub: ConsoleHub, pool: asyncpg.Pool, secret: str, token: str, principal: Principal
) -> AsyncIterator[ServerSentEvent]:
    """Subscribed once the response has started (a client gone before never subscribes); `ready` says so."""
    loop = asyncio.get_running_loop()
    sub = hub.subscribe(principal.tenant_id)
    if sub is None:  # the server began to stop meanwhile
        return
    try:
        yield ServerSentEvent(event="ready", data="{}")
        check_at = loop.time() + hub.recheck_seconds
        while True:
            try:
                event = await asyncio.wait_for(sub.queue.get(), max(0.0, check_at - loop.time()))
            except TimeoutError:
                if not await session_holds(pool, secret, token, principal):
                    return
                check_at = loop.time() + hub.recheck_seconds
                continue
            if event is None:  # the server stops, or the client was too slow
                return
            data = {} if event.ids is None and event.kind == "resync" else {"ids": event.ids}
            yield ServerSentEvent(event=event.kind, data=orjson.dumps(data).decode())
    finally:
        hub.unsubscribe(sub)


@router.get(
    "/events",
    response_class=EventSourceResponse,
    responses=STREAM,
    summary="Live updates of the caller's tenant (server-sent events)",
)
async def events(
    request: Request,
    principal: CurrentPrincipal,
    pool: PoolDep,
    _db: ReadDB,  # the user's role now: a disabled user gets 401 here
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> EventSourceResponse:
    hub: ConsoleHub = request.app.state.console_events
    if hub.closing:
        raise Unavailable("the server is stopping: reconnect in a moment", retry_after=1)
    stream = _stream(hub, pool, request.app.state.secret, token or "", principal)
    return EventSourceResponse(stream, ping=hub.ping_seconds, send_timeout=SEND_TIMEOUT)
