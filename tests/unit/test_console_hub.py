"""The console hub's fan-out (shared/console_events/hub.py), fed payloads as its listener would: only the
notice's tenant hears it; notices of one kind within the window make one event with the union of their ids
(none past 32); a client whose queue is full is dropped; draining ends every stream and opens none."""

from __future__ import annotations

import asyncio

import orjson

from shared.console_events.hub import ConsoleEvent, ConsoleHub, Subscriber


def _payload(tenant: str, kind: str, ids: list[str] | None) -> str:
    return orjson.dumps({"tenant": tenant, "kind": kind, "ids": ids}).decode()


def _drain(sub: Subscriber) -> list[ConsoleEvent | None]:
    out = []
    while not sub.queue.empty():
        out.append(sub.queue.get_nowait())
    return out


async def test_the_first_goes_at_once_then_one_per_window_with_the_union() -> None:
    hub = ConsoleHub("postgresql://unused/x", coalesce_seconds=0.2)
    a, b = hub.subscribe("a"), hub.subscribe("b")
    assert a is not None and b is not None
    hub.on_payload(_payload("a", "jobs", ["j1"]))
    await asyncio.sleep(0.02)
    assert _drain(a) == [ConsoleEvent("jobs", ("j1",))]
    for ids in (["j3"], ["j2"], ["j3"]):  # within the window: held, then one event
        hub.on_payload(_payload("a", "jobs", ids))
    hub.on_payload(_payload("a", "devices", ["d1"]))  # another kind: its own window
    await asyncio.sleep(0.05)
    assert _drain(a) == [ConsoleEvent("devices", ("d1",))]
    await asyncio.sleep(0.25)
    assert _drain(a) == [ConsoleEvent("jobs", ("j2", "j3"))]
    assert _drain(b) == []  # another tenant hears nothing
    hub.drain()


async def test_past_32_ids_or_one_unnamed_notice_the_event_names_none() -> None:
    hub = ConsoleHub("postgresql://unused/x", coalesce_seconds=0.05)
    sub = hub.subscribe("a")
    assert sub is not None
    hub.on_payload(_payload("a", "jobs", ["first"]))
    hub.on_payload(_payload("a", "devices", ["first"]))
    await asyncio.sleep(0.01)  # those go at once; what follows within the window waits for its end
    for i in range(40):
        hub.on_payload(_payload("a", "jobs", [f"j{i}"]))
    hub.on_payload(_payload("a", "devices", ["d"]))
    hub.on_payload(_payload("a", "devices", None))
    hub.on_payload(_payload("a", "devices", ["e"]))
    hub.on_payload("not ours")
    await asyncio.sleep(0.15)
    assert _drain(sub) == [
        ConsoleEvent("jobs", ("first",)),
        ConsoleEvent("devices", ("first",)),
        ConsoleEvent("jobs", None),
        ConsoleEvent("devices", None),
    ]
    hub.drain()


async def test_a_slow_client_is_dropped_not_buffered() -> None:
    hub = ConsoleHub("postgresql://unused/x", coalesce_seconds=0, queue_max=3)
    slow, quick = hub.subscribe("a"), hub.subscribe("a")
    assert slow is not None and quick is not None
    for i in range(5):
        hub.on_payload(_payload("a", "jobs", [f"j{i}"]))
        await asyncio.sleep(0.01)
        _drain(quick)
    assert slow.dropped and not quick.dropped
    events = _drain(slow)
    assert len(events) == 4 and events[-1] is None  # 3 queued, then the end: the stream closes
    assert hub.streams("a") == 1
    hub.drain()


async def test_draining_ends_every_stream_and_opens_none() -> None:
    hub = ConsoleHub("postgresql://unused/x")
    subs = [hub.subscribe("a"), hub.subscribe("b")]
    hub.on_payload(_payload("a", "jobs", ["j"]))
    hub.drain()
    await asyncio.sleep(0.01)
    for sub in subs:
        assert sub is not None and _drain(sub)[-1] is None
    assert hub.subscribe("a") is None
    assert hub.streams("a") == hub.streams("b") == 0
