"""The long-poll's pieces without a server: which waiters a notification wakes (its tenant only; its device,
or all the tenant's when it names none), the waiters' limit, closing; If-None-Match and the ETag."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request

from ingest_iot.long_poll import Waiters
from ingest_iot.poll_answer import Poll, etag_of, if_none_match_of
from shared.jobs.notify import JobNotice


def test_a_notice_wakes_its_device_or_its_whole_tenant_never_another_tenant() -> None:
    w = Waiters(limit=10)
    a1, a2, b1 = w.add("a", "d1"), w.add("a", "d2"), w.add("b", "d1")
    assert a1 and a2 and b1 and w.count == 3 and w.waiting_in("a") == 2
    w.notice(JobNotice("a", "d1", "j"))
    assert (a1.woken.is_set(), a2.woken.is_set(), b1.woken.is_set()) == (True, False, False)
    a1.woken.clear()
    w.notice(JobNotice("a", None, "j"))
    assert (a1.woken.is_set(), a2.woken.is_set(), b1.woken.is_set()) == (True, True, False)
    w.notice(JobNotice("c", None, "j"))  # nobody waits there
    for waiter in (a1, a2, b1):
        w.remove(waiter)
        w.remove(waiter)  # twice: counted once
    assert w.count == 0 and w.waiting_in("a") == 0


def test_the_limit_and_closing() -> None:
    w = Waiters(limit=2)
    first, second = w.add("a", "d1"), w.add("a", "d2")
    assert first and second and w.add("a", "d3") is None
    w.remove(first)
    assert w.add("a", "d3") is not None
    w.close()
    assert w.closing and second.woken.is_set()


def _request(value: str | None) -> Request:
    headers = [(b"if-none-match", value.encode())] if value is not None else []
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "query_string": b""})


def test_if_none_match_and_the_etag() -> None:
    jobs: list[dict[str, Any]] = [{"job_id": "j", "queued_at": datetime(2035, 1, 1, tzinfo=UTC)}]
    tag = etag_of(jobs)
    assert tag.startswith('W/"') and tag == etag_of([dict(jobs[0])]) and tag != etag_of([])
    poll = Poll(jobs, tag)
    assert if_none_match_of(_request(None)) is None
    for header in (tag, tag.removeprefix("W/"), f'"x", {tag}', "*"):
        tags = if_none_match_of(_request(header))
        assert poll.matches(tags) and not poll.answers(tags), header
    other = if_none_match_of(_request('"x"'))
    assert not poll.matches(other) and poll.answers(other)
    assert poll.answers(None) and not Poll([], etag_of([])).answers(None)  # without: work pending or not
