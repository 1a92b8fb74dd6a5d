"""The operator API's OpenAPI spec without a database: `python -m ui_iot.openapi [out.json]`.

The web console's TypeScript types (frontend/src/services/api/schema.ts) are generated from the
committed frontend/openapi.json; tests/unit/test_openapi_snapshot.py fails when it drifts from this.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from shared.infra.config import Settings
from ui_iot.app import create_app


def operator_spec() -> dict[str, Any]:
    """The spec as FastAPI builds it; the pool is only opened at startup, so no database is needed."""
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(secret="openapi", home=Path(home), static_dir=Path(home) / "none")  # noqa: S106
        return create_app(settings, "postgresql://unused/openapi").openapi()


def render(spec: dict[str, Any]) -> str:
    return json.dumps(spec, indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    text = render(operator_spec())
    if argv:
        Path(argv[0]).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
