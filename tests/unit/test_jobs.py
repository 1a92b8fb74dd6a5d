"""Job and execution statuses, as defined once in shared.jobs.states. Which moves are allowed is defined in
the database (iotcloud.execution_moves()); tests/integration/test_state_machine.py checks it and that both agree."""

from shared.jobs.states import (
    ACTIVE,
    COUNTER_COLUMNS,
    DEVICE_TARGETS,
    TERMINAL,
    ExecutionStatus,
    JobStatus,
    is_terminal,
)
from shared.twin import compute_delta  # the contract's check that the shared module still imports

E = ExecutionStatus


def test_shared_module_still_works() -> None:
    assert compute_delta({"a": 1}, {"a": 2}) == {"a": 1}


def test_job_transition_queued_to_in_progress() -> None:
    # A device claims QUEUED work (IN_PROGRESS) and finishes it; it cannot put work back in the queue.
    assert E.IN_PROGRESS in DEVICE_TARGETS and E.SUCCEEDED in DEVICE_TARGETS
    assert E.QUEUED not in DEVICE_TARGETS and E.TIMED_OUT not in DEVICE_TARGETS


def test_terminal_statuses() -> None:
    assert {s.value for s in TERMINAL} == {
        "SUCCEEDED",
        "FAILED",
        "TIMED_OUT",
        "REJECTED",
        "CANCELED",
        "REMOVED",
    }
    assert not is_terminal("IN_PROGRESS")
    assert not is_terminal("QUEUED")
    assert all(
        is_terminal(s) for s in ["SUCCEEDED", "FAILED", "TIMED_OUT", "REJECTED", "CANCELED", "REMOVED"]
    )
    assert TERMINAL | ACTIVE == set(ExecutionStatus)
    assert not TERMINAL & ACTIVE


def test_contract_status_names() -> None:
    # the contract's three, and SCHEDULED (a scheduling_config whose start has not come)
    assert [s.value for s in JobStatus] == ["SCHEDULED", "IN_PROGRESS", "COMPLETED", "CANCELED"]
    assert [s.value for s in ExecutionStatus] == [
        "QUEUED", "IN_PROGRESS", "SUCCEEDED", "FAILED", "TIMED_OUT", "REJECTED", "CANCELED", "REMOVED",
    ]  # fmt: skip


def test_every_status_has_a_counter() -> None:
    assert set(COUNTER_COLUMNS) == set(ExecutionStatus)
    assert COUNTER_COLUMNS[E.TIMED_OUT] == "timed_out"
