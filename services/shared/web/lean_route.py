"""LeanRoute: a FastAPI route that is documented like any other but served without FastAPI's per-request
dependency solving and response-model round trip.

For the device API's hot calls (a fleet polls and reports all day), FastAPI's per-request machinery costs
more CPU than the work: measured on the poll, the same SQL served through a `Request`-only endpoint runs
about 1.5x the requests per second of one with the usual dependencies, and the response-model check of our
own output is pure overhead (docs/performance.md). A LeanRoute keeps the endpoint's signature, its route
`dependencies`, `response_model` and `responses` for the OpenAPI spec, and at request time calls the
endpoint with only:

- `request: Request`;
- path parameters, as strings, by name;
- one pydantic model parameter: the JSON body, validated from the raw bytes by pydantic (a bad body gets the
  same 422 as anywhere else); declared `Model | None = None`, the body is optional (none: None).

The endpoint must do itself what its route `dependencies` declare (e.g. authenticate) and return a Response.
Anything else in the signature is refused when the route is built, so nothing is silently left unresolved.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import pydantic
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.routing import request_response

_JSON_TYPES = ("application/json",)


def _body_error(err: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in err.items() if k not in ("url", "ctx")}
    out["loc"] = ("body", *err.get("loc", ()))
    return out


async def read_body(request: Request, model: type[pydantic.BaseModel]) -> pydantic.BaseModel:
    """The JSON body as `model`; a body that is not JSON, or not valid, raises the usual 422."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in _JSON_TYPES and not content_type.endswith("+json"):
        raise RequestValidationError(
            [
                {
                    "type": "model_attributes_type",
                    "loc": ("body",),
                    "msg": "a JSON body is required",
                    "input": None,
                }
            ]
        )
    raw = await request.body()
    try:
        return model.model_validate_json(raw)
    except pydantic.ValidationError as exc:
        raise RequestValidationError([_body_error(dict(e)) for e in exc.errors()]) from None


class LeanRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        # Starlette's plain request/response adapter: FastAPI's adds per-request exit stacks for
        # dependencies with yield, which a LeanRoute does not run. The fast lane calls the handler itself.
        self.endpoint_handler = self.get_route_handler()
        self.app = request_response(self.endpoint_handler)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint
        hints = typing.get_type_hints(endpoint)
        path_names = set(self.param_convertors)
        request_arg: str | None = None
        body: tuple[str, type[pydantic.BaseModel]] | None = None
        optional = False
        path_args: list[str] = []
        for name, param in inspect.signature(endpoint).parameters.items():
            hint = hints.get(name)
            if param.default is None and type(None) in typing.get_args(hint):
                models = [a for a in typing.get_args(hint) if a is not type(None)]
                hint, optional = (models[0] if len(models) == 1 else hint), True
            if hint is Request:
                request_arg = name
            elif name in path_names:
                path_args.append(name)
            elif isinstance(hint, type) and issubclass(hint, pydantic.BaseModel) and body is None:
                body = (name, hint)
            else:
                raise TypeError(f"LeanRoute {self.path}: cannot serve parameter {name!r} ({hint!r})")
        call: Callable[..., Awaitable[Response]] = endpoint

        async def handler(request: Request) -> Response:
            kwargs: dict[str, Any] = {name: request.path_params[name] for name in path_args}
            if request_arg is not None:
                kwargs[request_arg] = request
            if body is not None:
                absent = optional and not await request.body()
                kwargs[body[0]] = None if absent else await read_body(request, body[1])
            return await call(**kwargs)

        return handler
