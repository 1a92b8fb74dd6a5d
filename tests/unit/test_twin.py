from shared.twin import compute_delta, json_depth, merge_patch


def test_delta_lists_only_differences() -> None:
    desired = {"fw": "1.2", "led": "on", "cfg": {"rate": 5, "mode": "eco"}}
    reported = {"fw": "1.2", "led": "off", "cfg": {"rate": 5, "mode": "fast"}, "extra": 1}
    assert compute_delta(desired, reported) == {"led": "on", "cfg": {"mode": "eco"}}


def test_delta_of_missing_key_and_empty_states() -> None:
    assert compute_delta({"a": None}, {}) == {}
    assert compute_delta({"a": None}, {"a": 1}) == {"a": None}
    assert compute_delta({}, {"a": 1}) == {}
    assert compute_delta(None, None) == {}
    assert compute_delta({"a": 0}, {}) == {"a": 0}
    assert compute_delta({"a": {"b": 1}}, {"a": 3}) == {"a": {"b": 1}}


def test_merge_patch_is_rfc7386() -> None:
    base = {"a": 1, "b": {"c": 2, "d": 3}, "e": [1]}
    assert merge_patch(base, {"a": None, "b": {"c": 9}, "e": [2], "f": "x"}) == {
        "b": {"c": 9, "d": 3},
        "e": [2],
        "f": "x",
    }
    assert base == {"a": 1, "b": {"c": 2, "d": 3}, "e": [1]}  # not mutated


def test_json_depth() -> None:
    assert json_depth({}) == 1
    assert json_depth({"a": {"b": [1]}}) == 4
    deep: dict[str, object] = {}
    cur = deep
    for _ in range(100):
        nxt: dict[str, object] = {}
        cur["k"] = nxt
        cur = nxt
    assert json_depth(deep, limit=16) == 17
