"""What distributing the tables by tenant (Citus, docs/scale.md) needs, read from the catalog: every tenant
table's primary key, unique keys and foreign keys lead with tenant_id (so each row, each uniqueness check and
each reference stays on one tenant's shard), and the only code that reads across tenants is the SECURITY
DEFINER functions listed in tests/support/schema.py (and docs/scale.md): everything else runs under RLS
with one tenant set."""

from __future__ import annotations

from pathlib import Path

from shared.infra.db import connect
from tests.support.pg import TestDB
from tests.support.schema import SECURITY_DEFINER_FUNCTIONS, TENANT_TABLES

SCALE_DOC = Path(__file__).resolve().parents[2] / "docs" / "scale.md"

KEYS = """
SELECT c.conrelid::regclass::text AS tbl, c.conname, c.contype,
       (SELECT array_agg(a.attname ORDER BY k.n)
          FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)
          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) AS cols,
       (SELECT array_agg(a.attname ORDER BY k.n)
          FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, n)
          JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum) AS ref_cols
  FROM pg_constraint c
 WHERE c.contype IN ('p', 'u', 'f') AND c.conrelid::regclass::text = ANY($1::text[])
"""

UNIQUE_INDEXES = """
SELECT i.indrelid::regclass::text AS tbl, i.indexrelid::regclass::text AS idx,
       (SELECT array_agg(a.attname ORDER BY k.n)
          FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
          JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum) AS cols
  FROM pg_index i
 WHERE i.indisunique AND i.indrelid::regclass::text = ANY($1::text[])
"""

# A key that does not lead with tenant_id, and why it may stay so (a reference table, or a global identity
# that is checked before any tenant is known). Each is named in docs/scale.md.
GLOBAL_KEYS = {
    "tenants_pkey": "tenants is the tenant itself: a reference table, replicated to every node",
}


async def test_every_tenant_key_leads_with_tenant_id(fresh_db: TestDB) -> None:
    owner = await connect(fresh_db.owner_url)
    try:
        keys = await owner.fetch(KEYS, list(TENANT_TABLES))
        indexes = await owner.fetch(UNIQUE_INDEXES, list(TENANT_TABLES))
    finally:
        await owner.close()
    wrong = []
    for k in keys:
        leads = k["cols"] and k["cols"][0] == "tenant_id"
        refs = k["contype"] != "f" or (k["ref_cols"] and k["ref_cols"][0] == "tenant_id")
        if not (leads and refs) and k["conname"] not in GLOBAL_KEYS:
            wrong.append(f"{k['tbl']}.{k['conname']} ({k['contype']}): {k['cols']} -> {k['ref_cols']}")
    global_indexes = {i["idx"]: i["cols"] for i in indexes if not i["cols"] or i["cols"][0] != "tenant_id"}
    documented = SCALE_DOC.read_text()
    for idx, cols in global_indexes.items():
        if idx not in GLOBAL_KEYS and f"`{idx}`" not in documented:
            wrong.append(
                f"unique index {idx} on {cols} does not lead with tenant_id and docs/scale.md does not name it"
            )
    assert not wrong, "\n".join(wrong)
    assert {k["tbl"] for k in keys} >= set(TENANT_TABLES) - {"tenants"} | {"jobs"}


def test_every_cross_tenant_function_is_listed_in_the_scale_plan() -> None:
    documented = SCALE_DOC.read_text()
    missing = [f for f in SECURITY_DEFINER_FUNCTIONS if f"`{f.split('(')[0]}`" not in documented]
    assert not missing, f"docs/scale.md does not list these cross-tenant functions: {missing}"
