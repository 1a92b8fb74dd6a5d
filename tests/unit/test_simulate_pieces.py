"""The simulator's pieces: statistics, outcome choice, jitter, config checks, tokens files."""

from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path

import pytest

from shared.web.validation import ID_PATTERN
from simulator.engine import (
    OUTCOMES,
    SimConfig,
    jittered,
    outcome_details,
    pick_outcome,
    progress_details,
)
from simulator.fleet import load_tokens, save_tokens, sim_device_ids, tokens_path
from simulator.stats import Reservoir, SimStats, percentile


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile(values, 0) == 1.0
    assert percentile([], 99) == 0.0
    assert percentile([3.0], 50) == 3.0


def test_reservoir_stays_bounded_and_samples_the_whole_stream() -> None:
    r = Reservoir(size=1000)
    for i in range(100_000):
        r.add(float(i))
    assert len(r.values) == 1000
    assert r.seen == 100_000
    # a uniform sample of 0..99999 has its median near 50000 and reaches the late part of the stream
    median = sorted(r.values)[500]
    assert 40_000 < median < 60_000
    assert max(r.values) > 90_000


def test_reservoir_summary_in_milliseconds() -> None:
    r = Reservoir()
    for v in (0.001, 0.002, 0.003, 0.004, 0.100):
        r.add(v)
    s = r.summary()
    assert s["p50_ms"] == 3.0
    assert s["max_ms"] == 100.0
    assert s["p99_ms"] == 100.0


def test_stats_count_errors_by_code_and_5xx() -> None:
    st = SimStats()
    st.request("poll", 0.01, 200)
    st.request("poll", 0.01, 401)
    st.request("update", 0.01, 409)
    st.request("update", 0.01, 503)
    st.request("poll", 0.01, 500)
    st.request("poll", 0.01, None, "ConnectError")
    st.updates["SUCCEEDED"] += 2
    summary = st.summary()
    assert summary["errors_by_code"] == {"401": 1, "409": 1, "500": 1, "503": 1, "ConnectError": 1}
    assert summary["server_errors"] == 2
    assert summary["transitions"] == 2
    assert st.latency["poll"].seen == 4 and st.latency["update"].seen == 2


def test_pick_outcome_follows_the_rates() -> None:
    rng = random.Random(1)
    cfg = SimConfig(success_rate=0.7, fail_rate=0.2, reject_rate=0.1)
    seen = Counter(pick_outcome(rng, cfg) for _ in range(20_000))
    assert set(seen) == set(OUTCOMES)
    assert abs(seen["SUCCEEDED"] / 20_000 - 0.7) < 0.02
    assert abs(seen["FAILED"] / 20_000 - 0.2) < 0.02
    only_fail = SimConfig(success_rate=0, fail_rate=1, reject_rate=0)
    assert {pick_outcome(rng, only_fail) for _ in range(200)} == {"FAILED"}


def test_jitter_stays_within_bounds_and_varies() -> None:
    rng = random.Random(2)
    values = [jittered(rng, 10.0, 0.2) for _ in range(2000)]
    assert min(values) >= 8.0 and max(values) <= 12.0
    assert max(values) - min(values) > 3.0
    assert jittered(rng, 5.0, 0.0) == 5.0


@pytest.mark.parametrize(
    "kw",
    [
        {"success_rate": 0, "fail_rate": 0, "reject_rate": 0},
        {"fail_rate": -1},
        {"poll_interval": 0},
        {"jitter": 1.0},
        {"connections": 0},
        {"run_seconds": -1},
    ],
)
def test_config_rejects_nonsense(kw: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        SimConfig(**kw).validate()  # type: ignore[arg-type]


def test_idle_time_defaults_from_the_poll_interval() -> None:
    assert SimConfig(poll_interval=1, jitter=0, run_seconds=2).idle_after == 5.0
    assert SimConfig(idle_seconds=0.5).idle_after == 0.5


def test_status_details_along_the_way() -> None:
    assert progress_details(0, 2) == {"progress": 0, "step": "claimed"}
    assert progress_details(1, 2) == {"progress": 33, "step": "step 1 of 2"}
    assert progress_details(2, 2)["progress"] == 67
    assert outcome_details("SUCCEEDED")["progress"] == 100
    assert outcome_details("FAILED")["message"] == "simulated failure"
    assert outcome_details("REJECTED")["progress"] is None


def test_tokens_file_round_trip_is_private(tmp_path: Path) -> None:
    path = tokens_path(tmp_path / "home", "acme")
    save_tokens(path, {"d-1": "tok-a", "d-2": "tok-b"})
    assert path.name == "sim-tokens-acme.json"
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_tokens(path) == {"d-1": "tok-a", "d-2": "tok-b"}


@pytest.mark.parametrize("content", ["[]", "{}", '{"d": 1}', '{"d": ""}', "not json"])
def test_bad_tokens_files_are_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "t.json"
    path.write_text(content)
    with pytest.raises(ValueError):
        load_tokens(path)
    with pytest.raises(ValueError):
        load_tokens(tmp_path / "missing.json")


def test_sim_device_ids_are_stable_and_valid() -> None:
    ids = sim_device_ids(3)
    assert ids == ["sim-000001", "sim-000002", "sim-000003"]
    assert sim_device_ids(5)[:3] == ids  # a larger fleet keeps the smaller one's devices
    # valid: the API's device id pattern accepts every one, with the default prefix or another
    many = sim_device_ids(1000) + sim_device_ids(2, prefix="lab.sim_2")
    assert len(set(many)) == len(many)
    assert all(re.fullmatch(ID_PATTERN, d) for d in many), [
        d for d in many if not re.fullmatch(ID_PATTERN, d)
    ][:3]
