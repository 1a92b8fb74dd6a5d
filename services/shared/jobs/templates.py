"""Job templates (AWS IoT job templates): a vetted job definition (document type, document, default
timeouts and configs) that jobs are made from. A template's document may hold placeholders
`${aws:iot:parameter:NAME}` in its string values; a job made from it fills every one from its
`document_parameters` (`fill`, pure)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import asyncpg

from shared.errors import BadRequest, Conflict, NotFound
from shared.infra.db import TENANT_SQL

# AWS's placeholder syntax, and its pattern for a parameter's name.
PARAMETER_NAME = r"[A-Za-z0-9_-]{1,128}"
PLACEHOLDER = re.compile(r"\$\{aws:iot:parameter:(" + PARAMETER_NAME + r")\}")


def placeholders(document: Any) -> set[str]:
    """The names of the placeholders in the string values of `document` (any JSON value)."""
    if isinstance(document, str):
        return set(PLACEHOLDER.findall(document))
    if isinstance(document, dict):
        return set().union(*(placeholders(v) for v in document.values()))
    if isinstance(document, list):
        return set().union(*(placeholders(v) for v in document))
    return set()


def _substitute(value: Any, parameters: dict[str, str]) -> Any:
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda m: parameters[m.group(1)], value)
    if isinstance(value, dict):
        return {k: _substitute(v, parameters) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, parameters) for v in value]
    return value


def fill(document: dict[str, Any], parameters: dict[str, str]) -> dict[str, Any]:
    """`document` with every placeholder replaced by its parameter's value (once: a value that itself looks
    like a placeholder stays as given). Raises BadRequest naming the placeholders without a parameter, or
    the parameters that fill no placeholder."""
    wanted = placeholders(document)
    missing = sorted(wanted - parameters.keys())
    if missing:
        raise BadRequest(f"document_parameters lacks {', '.join(missing)}", missing=missing)
    unknown = sorted(parameters.keys() - wanted)
    if unknown:
        raise BadRequest(f"the template has no parameter {', '.join(unknown)}", unknown=unknown)
    result: dict[str, Any] = _substitute(document, parameters)
    return result


TEMPLATE_COLUMNS = """template_id, description, document_type, document, expires_in_hours,
       in_progress_timeout_minutes, configs, created_by, created_at"""

INSERT_TEMPLATE = f"""
INSERT INTO job_templates (tenant_id, template_id, description, document_type, document, expires_in_hours,
                           in_progress_timeout_minutes, configs, created_by, created_at)
VALUES ({TENANT_SQL}, $1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (tenant_id, template_id) DO NOTHING
RETURNING {TEMPLATE_COLUMNS}
"""

GET_TEMPLATE = f"SELECT {TEMPLATE_COLUMNS} FROM job_templates WHERE template_id = $1"

LIST_TEMPLATES = f"""
SELECT {TEMPLATE_COLUMNS} FROM job_templates
 WHERE ($1::text IS NULL OR template_id > $1)
 ORDER BY template_id
 LIMIT $2
"""

DELETE_TEMPLATE = f"DELETE FROM job_templates WHERE template_id = $1 RETURNING {TEMPLATE_COLUMNS}"

SET_JOB_TEMPLATE = "UPDATE jobs SET template_id = $2 WHERE job_id = $1"


def _view(row: asyncpg.Record) -> dict[str, Any]:
    data = dict(row)
    data["parameters"] = sorted(placeholders(data["document"]))
    return data


async def create_template(
    conn: asyncpg.Connection,
    *,
    template_id: str,
    description: str,
    document_type: str,
    document: dict[str, Any],
    expires_in_hours: float | None,
    in_progress_timeout_minutes: int | None,
    configs: dict[str, Any],
    created_by: str | None,
    now: datetime,
) -> dict[str, Any]:
    row = await conn.fetchrow(
        INSERT_TEMPLATE,
        template_id,
        description,
        document_type,
        document,
        expires_in_hours,
        in_progress_timeout_minutes,
        configs,
        created_by,
        now,
    )
    if row is None:
        raise Conflict(f"job template {template_id!r} already exists")
    return _view(row)


async def get_template(conn: asyncpg.Connection, template_id: str) -> dict[str, Any]:
    row = await conn.fetchrow(GET_TEMPLATE, template_id)
    if row is None:
        raise NotFound(f"job template {template_id!r} not found")
    return _view(row)


async def list_templates(conn: asyncpg.Connection, limit: int, after: str | None) -> dict[str, Any]:
    rows = await conn.fetch(LIST_TEMPLATES, after, limit + 1)
    items = [_view(r) for r in rows[:limit]]
    return {
        "templates": items,
        "limit": limit,
        "next_after": items[-1]["template_id"] if len(rows) > limit else None,
    }


async def delete_template(conn: asyncpg.Connection, template_id: str) -> dict[str, Any]:
    """Deletes the template; the jobs made from it stay (they keep its id in template_id)."""
    row = await conn.fetchrow(DELETE_TEMPLATE, template_id)
    if row is None:
        raise NotFound(f"job template {template_id!r} not found")
    return _view(row)


# The fields of a job that a template gives (defaults that the request's own fields override).
JOB_FIELDS = ("document_type", "document_params", "expires_in_hours", "in_progress_timeout_minutes")


async def resolve(
    conn: asyncpg.Connection,
    template_id: str | None,
    parameters: dict[str, str] | None,
    given: dict[str, Any],
) -> dict[str, Any]:
    """The JOB_FIELDS of a job to create: `given` (the request's, None where not given) completed from the
    template: document_type and the timeouts default to the template's, document_params is its document
    filled with `parameters`. Without a template, `given` as it is (and document_parameters are refused).
    (The template's `configs` are applied by JobConfigs.with_defaults, read with stored_configs.)"""
    out = {name: given.get(name) for name in JOB_FIELDS}
    if template_id is None:
        if parameters is not None:
            raise BadRequest("document_parameters needs a template_id")
    elif out["document_params"] is not None:
        raise BadRequest(
            "give either template_id or document_params, not both (the template is the document)"
        )
    else:
        template = await get_template(conn, template_id)
        out["document_params"] = fill(template["document"], parameters or {})
        for name in ("document_type", "expires_in_hours", "in_progress_timeout_minutes"):
            if out[name] is None:
                out[name] = template[name]
    if out["document_type"] is None:
        raise BadRequest("document_type is required (or a template_id)")
    out["document_params"] = out["document_params"] or {}
    return out


async def stored_configs(conn: asyncpg.Connection, template_id: str | None) -> dict[str, Any]:
    """A template's default configs as stored (empty without a template)."""
    return dict((await get_template(conn, template_id))["configs"]) if template_id is not None else {}


async def record_template(conn: asyncpg.Connection, job_id: str, template_id: str) -> None:
    """The job was made from the template (in the transaction that created it)."""
    await conn.execute(SET_JOB_TEMPLATE, job_id, template_id)
