"""Where the files that are not Python live: the SQL (db/migrations, db/functions) and the built web console.
In a checkout they are the checkout's own (db/, frontend/dist); in an installed wheel (`make wheel`) they are
package data under iotcloud/assets/. A checkout always uses its own files, even when a wheel build left a copy
behind."""

from __future__ import annotations

from pathlib import Path

# services/shared/infra/assets.py -> the checkout's root; in site-packages, a directory without db/migrations
CHECKOUT = Path(__file__).resolve().parents[3]
# site-packages/iotcloud/assets (copied there by `make wheel`)
PACKAGED = Path(__file__).resolve().parents[2] / "iotcloud" / "assets"


def in_checkout() -> bool:
    return (CHECKOUT / "db" / "migrations").is_dir() and (CHECKOUT / "services").is_dir()


def db_dir() -> Path:
    """db/ with migrations/ and functions/."""
    return CHECKOUT / "db" if in_checkout() else PACKAGED / "db"


def console_dir() -> Path:
    """The built web console (index.html, assets/): frontend/dist, or the wheel's copy of it."""
    return CHECKOUT / "frontend" / "dist" if in_checkout() else PACKAGED / "console"
