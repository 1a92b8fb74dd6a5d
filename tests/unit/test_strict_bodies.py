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
COERCIBLE: dict[type, list[Any]] = {int: [False, True, 1.0, "1"], bool: [0, 1, "true"], float: [True, "1.5"]}


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


def _scalar_fields() -> list[tuple[str, str, type, Any]]:
    """(model, field, its scalar type, a value of another type that a lax model would coerce)."""
    cases = []
    for name, model in sorted(_body_models().items()):
        for field_name, field in model.model_fields.items():
            for scalar in (bool, int, float):  # bool first: it is an int to issubclass
                if scalar in (field.annotation, *typing.get_args(field.annotation)):
                    cases += [(name, field_name, scalar, value) for value in COERCIBLE[scalar]]
                    break
    return cases


def test_request_bodies_have_numbers_and_flags_to_check() -> None:
    names = {(model, field) for model, field, _, _ in _scalar_fields()}
    assert {
        ("TwinPatch", "expected_version"),
        ("ReportIn", "version"),
        ("ExecutionUpdate", "expected_execution_number"),
        ("JobCreate", "target_all"),
        ("JobCreate", "in_progress_timeout_minutes"),
        ("JobCreate", "expires_in_hours"),
    } <= names


@pytest.mark.parametrize(("model", "field", "scalar", "value"), _scalar_fields(), ids=str)
def test_request_bodies_do_not_coerce(model: str, field: str, scalar: type, value: Any) -> None:
    cls = _body_models()[model]
    # Python mode is how FastAPI validates a parsed body, JSON mode how LeanRoute validates raw bytes.
    for validate in (cls.model_validate, lambda d: cls.model_validate_json(json.dumps(d))):
        with pytest.raises(pydantic.ValidationError) as caught:
            validate({field: value})
        assert any(err["loc"][:1] == (field,) for err in caught.value.errors()), (scalar, value)
