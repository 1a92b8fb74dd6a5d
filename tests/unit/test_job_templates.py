"""The placeholder substitution of job templates (shared/jobs/templates.py): `${aws:iot:parameter:NAME}` in
any string value, at any depth, filled with string values; missing and unknown parameters named."""

from __future__ import annotations

import pytest

from shared.errors import BadRequest
from shared.jobs.templates import fill, placeholders

DOC = {
    "url": "https://fw.example/${aws:iot:parameter:version}/image.bin",
    "steps": [{"run": "flash ${aws:iot:parameter:slot}"}, "reboot", 3, None, True],
    "nested": {"deeper": {"v": "${aws:iot:parameter:version}-${aws:iot:parameter:slot}"}},
    "${aws:iot:parameter:key}": "keys are not filled",
    "other": "${iotcloud:artifact-url:fw} ${aws:iot:parameter:} $aws:iot:parameter:x ${aws:iot:parameter:a b}",
}


def test_placeholders_are_found_in_string_values_at_any_depth_only() -> None:
    assert placeholders(DOC) == {"version", "slot"}
    assert placeholders({}) == set()
    assert placeholders(["${aws:iot:parameter:A_b-9}"]) == {"A_b-9"}


def test_fill_replaces_every_occurrence_and_leaves_the_rest() -> None:
    out = fill(DOC, {"version": "1.2.3", "slot": "B"})
    assert out == {
        "url": "https://fw.example/1.2.3/image.bin",
        "steps": [{"run": "flash B"}, "reboot", 3, None, True],
        "nested": {"deeper": {"v": "1.2.3-B"}},
        "${aws:iot:parameter:key}": "keys are not filled",
        "other": DOC["other"],
    }
    assert DOC["url"].startswith("https://fw.example/${")  # the template is not changed


def test_values_are_inserted_once_not_expanded_again() -> None:
    out = fill({"a": "${aws:iot:parameter:x}"}, {"x": "${aws:iot:parameter:x}"})
    assert out == {"a": "${aws:iot:parameter:x}"}
    assert fill({"a": "$${aws:iot:parameter:x}}"}, {"x": "\\1 $0 {}"}) == {"a": "$\\1 $0 {}}"}


def test_missing_parameters_are_named_sorted() -> None:
    with pytest.raises(BadRequest) as err:
        fill(DOC, {})
    assert err.value.extra == {"missing": ["slot", "version"]}
    assert "slot, version" in err.value.message
    with pytest.raises(BadRequest) as err:
        fill(DOC, {"slot": "A"})
    assert err.value.extra == {"missing": ["version"]}


def test_unknown_parameters_are_named() -> None:
    with pytest.raises(BadRequest) as err:
        fill(DOC, {"version": "1", "slot": "A", "zeta": "z", "alpha": "a"})
    assert err.value.extra == {"unknown": ["alpha", "zeta"]}
    with pytest.raises(BadRequest):
        fill({"no": "placeholders"}, {"x": "1"})


def test_a_document_without_placeholders_needs_no_parameters() -> None:
    assert fill({"a": [1, {"b": "c"}]}, {}) == {"a": [1, {"b": "c"}]}
