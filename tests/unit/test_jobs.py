"""The job and execution state machine, as defined once in shared.jobs.states."""

from shared.jobs.states import (
    ACTIVE,
    DEVICE_TARGETS,
    TERMINAL,
    TRANSITIONS,
    Actor,
    ExecutionStatus,
    JobStatus,
    allowed_from,
    is_allowed,
    is_terminal,
)
from shared.twin import compute_delta  # the contract's check that the shared module still imports

E = ExecutionStatus


def test_shared_module_still_works() -> None:
    assert compute_delta({"a": 1}, {"a": 2}) == {"a": 1}


def test_job_transition_queued_to_in_progress() -> None:
    assert is_allowed(Actor.DEVICE, E.QUEUED, E.IN_PROGRESS)
    assert is_allowed(Actor.DEVICE, E.IN_PROGRESS, E.SUCCEEDED)
    assert not is_allowed(Actor.DEVICE, E.IN_PROGRESS, E.QUEUED)
    assert allowed_from(Actor.DEVICE, E.IN_PROGRESS) == ["IN_PROGRESS", "QUEUED"]


def test_terminal_statuses() -> None:
    assert {s.value for s in TERMINAL} == {"SUCCEEDED", "FAILED", "TIMED_OUT", "REJECTED"}
    assert not is_terminal("IN_PROGRESS")
    assert not is_terminal("QUEUED")
    assert all(is_terminal(s) for s in ["SUCCEEDED", "FAILED", "TIMED_OUT", "REJECTED"])
    assert TERMINAL | ACTIVE == set(ExecutionStatus)
    assert not TERMINAL & ACTIVE


def test_contract_status_names() -> None:
    assert [s.value for s in JobStatus] == ["IN_PROGRESS", "COMPLETED", "CANCELED"]
    assert [s.value for s in ExecutionStatus] == [
        "QUEUED", "IN_PROGRESS", "SUCCEEDED", "FAILED", "TIMED_OUT", "REJECTED",
    ]  # fmt: skip


def test_device_moves_are_exactly_the_documented_ones() -> None:
    expected = {
        (E.QUEUED, E.IN_PROGRESS),
        (E.QUEUED, E.REJECTED),
        (E.IN_PROGRESS, E.IN_PROGRESS),
        (E.IN_PROGRESS, E.SUCCEEDED),
        (E.IN_PROGRESS, E.FAILED),
        (E.IN_PROGRESS, E.REJECTED),
    }
    assert TRANSITIONS[Actor.DEVICE] == expected
    assert DEVICE_TARGETS == {E.IN_PROGRESS, E.SUCCEEDED, E.FAILED, E.REJECTED}


def test_nothing_leaves_a_terminal_status() -> None:
    for actor, moves in TRANSITIONS.items():
        for frm, _to in moves:
            assert frm not in TERMINAL, (actor, frm)


def test_worker_only_times_out_and_operator_only_rejects_queued() -> None:
    assert TRANSITIONS[Actor.WORKER] == {(E.QUEUED, E.TIMED_OUT), (E.IN_PROGRESS, E.TIMED_OUT)}
    assert TRANSITIONS[Actor.OPERATOR] == {(E.QUEUED, E.REJECTED)}
    assert allowed_from(Actor.WORKER, E.TIMED_OUT) == ["IN_PROGRESS", "QUEUED"]
    assert allowed_from(Actor.DEVICE, E.TIMED_OUT) == []  # a device cannot time itself out
    assert allowed_from(Actor.DEVICE, E.REJECTED) == ["IN_PROGRESS", "QUEUED"]
