"""No JSON request body of either API coerces a value to the type its spec declares: `false` is not 0 nor
`1` true, "1" is not 1 (pydantic's lax mode would take them all)."""

from __future__ import annotations

import functools
import json
import tempfile
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydantic
import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from ingest_iot.app import create_app as create_device_app
from shared.infra.config import Settings
from ui_iot.app import create_app as create_ui_app

# Values that a lax int, bool or float would take, and the spec's type does not include.
COERCIBLE: dict[type, list[Any]] = {int: [False, True, "1"], bool: [0, 1, "true"], float: [True, "1.5"]}


@functools.cache
def _body_models() -> dict[str, type[pydantic.BaseModel]]:
    models: dict[str, type[pydantic.BaseModel]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(secret="t", home=Path(tmp), static_dir=Path(tmp) / "none")
        for app in (
            create_ui_app(settings, "postgresql://u/t"),
            create_device_app(settings, "postgresql://u/t"),
        ):
            for route in iter_route_contexts(app.routes):
                if isinstance(route.original_route, APIRoute) and route.body_field is not None:
                    for field in route.dependant.body_params:
                        for model in _models_in(field.field_info.annotation):
                            models[model.__name__] = model
    return models


def _models_in(annotation: Any) -> Iterator[type[pydantic.BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        yield annotation
    elif isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        for arg in typing.get_args(annotation):
            yield from _models_in(arg)


def _types_in(annotation: Any) -> set[Any]:
    """The plain types of an annotation: Annotated unwrapped, unions flattened."""
    if typing.get_origin(annotation) is typing.Annotated:
        return _types_in(typing.get_args(annotation)[0])
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return set().union(*(_types_in(arg) for arg in typing.get_args(annotation)))
    return {annotation}


def _scalar_fields() -> list[tuple[str, str, type]]:
    """(model, field, its scalar type) of every bool, int and float field of a request body."""
    return [
        (name, field_name, scalar)
        for name, model in sorted(_body_models().items())
        for field_name, field in model.model_fields.items()
        for scalar in (bool, int, float)
        if scalar in _types_in(field.annotation)
    ]


def test_request_bodies_have_numbers_and_flags_to_check() -> None:
    names = {(model, field) for model, field, _ in _scalar_fields()}
    assert {
        ("TwinPatch", "expected_version"),
        ("ReportIn", "version"),
        ("ExecutionUpdate", "expected_execution_number"),
        ("JobCreate", "target_all"),
        ("JobCreate", "in_progress_timeout_minutes"),
        ("JobCreate", "expires_in_hours"),
    } <= names


def _refused(model: str, field: str, value: Any) -> bool:
    """Whether the model refuses the value of this field, in Python mode (how FastAPI validates a parsed
    body) and in JSON mode (how LeanRoute validates the raw bytes) alike."""
    cls = _body_models()[model]
    verdicts = set()
    for validate in (cls.model_validate, lambda d: cls.model_validate_json(json.dumps(d))):
        try:
            validate({field: value})
        except pydantic.ValidationError as exc:
            verdicts.add(any(err["loc"][:1] == (field,) for err in exc.errors()))
        else:
            verdicts.add(False)
    assert len(verdicts) == 1, "the two modes disagree"
    return verdicts.pop()


@pytest.mark.parametrize(
    ("model", "field", "scalar", "value"),
    [(*case, value) for case in _scalar_fields() for value in COERCIBLE[case[2]]],
    ids=str,
)
def test_request_bodies_do_not_coerce(model: str, field: str, scalar: type, value: Any) -> None:
    assert _refused(model, field, value)


@pytest.mark.parametrize(
    ("model", "field"), [(model, field) for model, field, scalar in _scalar_fields() if scalar is int]
)
def test_integers_take_what_json_schema_calls_an_integer(model: str, field: str) -> None:
    """5.0 is an integer to JSON Schema and to JavaScript: taken as 5; a fraction is still refused."""
    assert not _refused(model, field, 5.0)
    assert _refused(model, field, 5.5)
