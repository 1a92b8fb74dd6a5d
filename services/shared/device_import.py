"""Devices imported from a CSV file (docs/console.md, "Fleet work"): validated as a whole, then created in
one set-based statement, each with a provision token returned this once (stored hashed, as for one device).

The file: a header row, then one device a row. Column `device_id` is required; `name` is optional; every
other column is an attribute of the device (a string; an empty cell sets none). Any bad row refuses the
whole file (400 `invalid_csv` with every problem found, by line and column; nothing is created), as do ids
repeated within the file; ids of existing devices are a 409 naming them."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from shared import quotas
from shared.auth import new_provision_token, token_hash
from shared.errors import Conflict, DomainError
from shared.infra.db import TENANT_SQL
from shared.jobs import continuous
from shared.web.validation import ID_PATTERN

MAX_ROWS = 10_000
MAX_ERRORS = 100  # problems reported at most (the file is refused at the first anyway)
MAX_NAME = 200
MAX_ATTRIBUTE_KEY = 64
MAX_ATTRIBUTES_BYTES = 16 * 1024  # as a device's attributes when created alone
_ID = re.compile(ID_PATTERN)

# Set-based: one statement for the whole file. A device created meanwhile by someone else is not
# overwritten: the import sees fewer rows inserted and rolls back.
INSERT_DEVICES = f"""
INSERT INTO device_state (tenant_id, device_id, name, attributes, token_hash, created_at, updated_at)
SELECT {TENANT_SQL}, r.device_id, r.name, r.attributes, r.token_hash, $5, $5
  FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::text[]) AS r(device_id, name, attributes, token_hash)
ON CONFLICT (tenant_id, device_id) DO NOTHING
"""

EXISTING = """
SELECT coalesce(array_agg(device_id ORDER BY device_id), '{}')
  FROM device_state WHERE device_id = ANY($1::text[])
"""


class InvalidCsv(DomainError):
    status_code = 400
    code = "invalid_csv"


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    device_id: str
    name: str
    attributes: dict[str, str]


@dataclass(slots=True)
class Problems:
    items: list[dict[str, Any]] = field(default_factory=list)

    def add(self, line: int | None, column: str | None, message: str) -> None:
        if len(self.items) < MAX_ERRORS:
            self.items.append({"line": line, "column": column, "message": message})

    def raise_any(self) -> None:
        if self.items:
            first = self.items[0]
            where = f"line {first['line']}: " if first["line"] is not None else ""
            more = f" (and {len(self.items) - 1} more)" if len(self.items) > 1 else ""
            raise InvalidCsv(f"{where}{first['message']}{more}; nothing was created", errors=self.items)


def _header(names: list[str], problems: Problems) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            problems.add(1, name, f"column {name!r} appears twice")
        seen.add(name)
        if not name or len(name) > MAX_ATTRIBUTE_KEY or "\x00" in name:
            problems.add(1, name, f"a column name must have 1 to {MAX_ATTRIBUTE_KEY} characters")
    if "device_id" not in seen:
        problems.add(1, "device_id", "the header must name a device_id column")


def _row(line: int, header: list[str], cells: list[str], problems: Problems) -> Row | None:
    if len(cells) != len(header):
        problems.add(line, None, f"{len(cells)} cells where the header has {len(header)} columns")
        return None
    values = dict(zip(header, cells, strict=True))
    device_id = values.pop("device_id").strip()
    name = values.pop("name", "").strip()
    ok = True
    if not _ID.match(device_id):
        problems.add(
            line, "device_id", f"{device_id!r} is not a device id (letters, digits, _ . : -; 128 at most)"
        )
        ok = False
    if len(name) > MAX_NAME or "\x00" in name:
        problems.add(line, "name", f"a name has at most {MAX_NAME} characters and no NUL")
        ok = False
    attributes = {k: v for k, v in values.items() if v != ""}
    if any("\x00" in v for v in attributes.values()):
        problems.add(line, None, "an attribute value contains a NUL character")
        ok = False
    elif len(orjson.dumps(attributes)) > MAX_ATTRIBUTES_BYTES:
        problems.add(line, None, f"the row's attributes exceed {MAX_ATTRIBUTES_BYTES} bytes as JSON")
        ok = False
    return Row(line, device_id, name, attributes) if ok else None


def parse(text: str) -> list[Row]:
    """The file's devices, or InvalidCsv naming every problem (at most MAX_ERRORS): a bad header, a row of
    the wrong width or with a bad value, more than MAX_ROWS devices, an id repeated within the file."""
    problems = Problems()
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader, [])]
        if not any(header):
            problems.add(None, None, "the file is empty: a header row with device_id is needed")
            problems.raise_any()
        _header(header, problems)
        problems.raise_any()
        rows: list[Row] = []
        first_line: dict[str, int] = {}
        count = 0
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue  # a blank line
            count += 1
            if count > MAX_ROWS:
                problems.add(reader.line_num, None, f"more than {MAX_ROWS} devices in one file")
                break
            row = _row(reader.line_num, header, cells, problems)
            if row is None:
                continue
            if row.device_id in first_line:
                problems.add(
                    row.line, "device_id", f"{row.device_id!r} repeats line {first_line[row.device_id]}"
                )
                continue
            first_line[row.device_id] = row.line
            rows.append(row)
    except csv.Error as exc:
        problems.add(reader.line_num, None, f"not valid CSV: {exc}")
    problems.raise_any()
    if not rows:
        raise InvalidCsv("the file has no devices; nothing was created", errors=[])
    return rows


async def refuse_existing(conn: asyncpg.Connection, rows: list[Row]) -> None:
    existing = list(await conn.fetchval(EXISTING, [r.device_id for r in rows]))
    if existing:
        raise Conflict(
            f"{len(existing)} devices exist already: {', '.join(existing[:20])}; nothing was created",
            existing_device_ids=existing,
        )


async def import_devices(
    conn: asyncpg.Connection, text: str, now: datetime, *, dry_run: bool = False
) -> list[dict[str, Any]]:
    """Validates the file (InvalidCsv, Conflict for existing ids, the devices quota) and, unless `dry_run`,
    creates its devices in one statement; the fleet's running continuous jobs get an execution for each, in
    the same transaction. Returns the devices, each with its provision token (None on a dry run)."""
    rows = parse(text)
    await refuse_existing(conn, rows)
    await quotas.check_new_device(conn, len(rows))
    if dry_run:
        return [
            {"device_id": r.device_id, "name": r.name, "attributes": r.attributes, "provision_token": None}
            for r in rows
        ]
    tokens = [new_provision_token() for _ in rows]
    ids = [r.device_id for r in rows]
    await continuous.lock_target(conn, None, exclusive=False)
    tag = await conn.execute(
        INSERT_DEVICES,
        ids,
        [r.name for r in rows],
        [r.attributes for r in rows],
        [token_hash(t) for t in tokens],
        now,
    )
    if int(tag.rsplit(" ", 1)[-1]) != len(rows):
        raise Conflict("devices of this file were created meanwhile; nothing was created")
    await continuous.join(conn, now, None, ids)
    return [
        {"device_id": r.device_id, "name": r.name, "attributes": r.attributes, "provision_token": t}
        for r, t in zip(rows, tokens, strict=True)
    ]
