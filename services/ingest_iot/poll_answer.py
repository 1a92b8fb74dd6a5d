"""The device poll's answer: the `wait` query parameter, the ETag of the jobs list and If-None-Match (304),
and the sleep hint (docs/jobs.md, device API)."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
import pydantic
from fastapi import Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError

from shared.infra.config import Settings
from shared.web.http import FastJSONResponse

MAX_WAIT = 60  # seconds a poll may wait for work (?wait=N)
_WAIT = pydantic.TypeAdapter(Annotated[int, pydantic.Field(ge=0, le=MAX_WAIT)])


def poll_parameters(
    wait: Annotated[
        int,
        Query(
            ge=0,
            le=MAX_WAIT,
            description="seconds to wait for work when none is pending (long-poll): the answer comes as soon "
            "as a job reaches this device, else with the empty list (or 304) after `wait` seconds; 0 (the "
            "default) answers at once",
        ),
    ] = 0,
    if_none_match: Annotated[
        str | None,
        Header(description="the ETag of the jobs list the device holds: 304 while it is unchanged"),
    ] = None,
) -> None:
    """Documents the poll's parameters (the LeanRoute reads them itself: `wait_of`, `if_none_match_of`)."""


def wait_of(request: Request) -> int:
    raw = request.query_params.get("wait")
    if raw is None:
        return 0
    try:
        return _WAIT.validate_python(raw)
    except pydantic.ValidationError as exc:
        raise RequestValidationError(
            [
                {k: v for k, v in e.items() if k not in ("url", "ctx")} | {"loc": ("query", "wait")}
                for e in exc.errors()
            ]
        ) from None


def if_none_match_of(request: Request) -> frozenset[str] | None:
    """The entity tags of If-None-Match, weak ones compared as strong (RFC 9110 weak comparison)."""
    raw = request.headers.get("if-none-match")
    if raw is None:
        return None
    return frozenset(t.strip().removeprefix("W/") for t in raw.split(",") if t.strip())


def etag_of(jobs: list[dict[str, Any]]) -> str:
    """A weak ETag of the jobs list: its executions and documents as stored. Artifact URLs, signed anew on
    every answer, are not part of it (a weak tag: the same content, whatever the signature's time)."""
    digest = hashlib.sha256(orjson.dumps(jobs, default=str, option=orjson.OPT_UTC_Z)).digest()
    return 'W/"' + base64.urlsafe_b64encode(digest[:18]).decode() + '"'


@dataclass(slots=True)
class Poll:
    """One look at the device's pending work: what is served, and its ETag."""

    jobs: list[dict[str, Any]]
    etag: str

    def matches(self, tags: frozenset[str] | None) -> bool:
        return tags is not None and ("*" in tags or self.etag.removeprefix("W/") in tags)

    def answers(self, tags: frozenset[str] | None) -> bool:
        """Whether it is worth answering now: with If-None-Match, when the list differs from the device's;
        without, when work is pending."""
        return not self.matches(tags) if tags is not None else bool(self.jobs)


def sleep_hint(settings: Settings, pending: bool) -> int:
    return settings.poll_sleep_pending_seconds if pending else settings.poll_sleep_seconds


def respond(poll: Poll, tags: frozenset[str] | None, settings: Settings) -> Response:
    headers = {"ETag": poll.etag}
    if poll.matches(tags):
        return Response(status_code=304, headers=headers)
    body = {"jobs": poll.jobs, "poll": {"sleep_seconds": sleep_hint(settings, bool(poll.jobs))}}
    return FastJSONResponse(body, headers=headers)
