"""A row of iotcloud.move_result turned into an answer, for every caller that moves one execution (a
device's update, an operator's cancel of one execution): the execution's state on success (with
`job_completed`), NotFound, or Conflict with the refusal's reason and the current state."""

from __future__ import annotations

from typing import Any

import asyncpg

from shared.errors import Conflict, NotFound
from shared.jobs.states import Actor
from shared.observability import metrics

# The execution state a move answers with (and a refusal carries as `current`).
STATE_FIELDS = ("job_id", "device_id", "status", "status_details", "execution_number", "queued_at",
                "started_at", "last_updated_at", "retry_attempt")  # fmt: skip


def answer(
    row: asyncpg.Record,
    actor: Actor,
    refusals: dict[str, str],
    *,
    not_found: str,
    otherwise: str,
    **words: Any,
) -> dict[str, Any]:
    """`refusals` words each reason code; `otherwise` the codes it does not name. Both may use `{reason}`,
    the state's fields and `words`. A move made is counted (iotcloud_execution_transitions) by `actor`."""
    metrics.count_transition(actor.value, row)
    outcome = row["outcome"]
    if outcome == "not_found":
        raise NotFound(not_found)
    state = {k: row[k] for k in STATE_FIELDS}
    if outcome in ("moved", "unchanged"):
        return {**state, "job_completed": bool(row["job_completed"])}
    message = refusals.get(outcome, otherwise).format(reason=outcome, **words, **state)
    raise Conflict(message, reason=outcome, current=state)
