"""The console channel's notices, the Python side of db/functions/100_console_events.sql: on commit, at most
one NOTIFY per statement and tenant on CHANNEL, with the JSON payload {"tenant", "kind", "ids" (or null)}.
The SQL triggers build and send them (one place); this module names the channel and reads a payload back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

CHANNEL = "iotcloud_console"
KINDS = frozenset({"jobs", "devices", "groups"})
IDS_MAX = 32  # the most ids a notice names (the SQL's bound too); more: null, "any of that kind"


@dataclass(frozen=True, slots=True)
class ConsoleNotice:
    """Things of `kind` of tenant `tenant` changed: those named by `ids`, or any (ids None)."""

    tenant: str
    kind: str
    ids: frozenset[str] | None

    @classmethod
    def parse(cls, payload: str) -> ConsoleNotice | None:
        """The notice of a payload; None for one that is not ours (anyone may NOTIFY on a channel)."""
        try:
            data: Any = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(data, dict):
            return None
        tenant, kind, ids = data.get("tenant"), data.get("kind"), data.get("ids")
        if not isinstance(tenant, str) or kind not in KINDS:
            return None
        if ids is None:
            return cls(tenant, kind, None)
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            return None
        return cls(tenant, kind, frozenset(ids))
