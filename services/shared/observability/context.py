"""What a log line knows about where it was written: the service (ui, device, worker: several run in one
process under `iotcloud up`) and, inside a request, its id, route template and tenant."""

from __future__ import annotations

import re
import uuid
from collections.abc import MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

# Set around the creation of each service's task (iotcloud/runner.py): tasks copy the context they are
# created in, so every request's and tick's task knows its service.
SERVICE: ContextVar[str] = ContextVar("iotcloud_service", default="iotcloud")

# A client's X-Request-ID is kept when it is short and plain (so it cannot forge log lines or fields);
# otherwise a new id replaces it.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")


@dataclass(slots=True)
class RequestInfo:
    """Mutable on purpose: dependencies that learn the tenant fill it in, and a dependency run in a copied
    context (a thread) still writes into the same object."""

    request_id: str
    service: str
    method: str
    tenant: str | None = None
    # the ASGI scope: the router writes the matched route into it, so `route` is known once routing is done
    scope: MutableMapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def route(self) -> str | None:
        template = getattr(self.scope.get("route"), "path_format", None)
        return template if isinstance(template, str) else None


REQUEST: ContextVar[RequestInfo | None] = ContextVar("iotcloud_request", default=None)


def request_id_from(header: str | None) -> str:
    if header is not None and _SANE_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def set_tenant(tenant_id: str) -> None:
    """The current request's tenant, for its log lines (no-op outside a request)."""
    info = REQUEST.get()
    if info is not None:
        info.tenant = tenant_id
