"""`python -m bench [--quick] [--only B1,B2,...]`: a fresh embedded PostgreSQL, the scenarios, one table,
bench/results/latest.md and latest.json."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import time
from typing import Any

from bench import report
from bench.context import FULL, QUICK, Ctx
from bench.data import seed_devices, seed_tenant
from bench.env import BenchDB, Service, embedded_postgres
from bench.load import ensure_wrk
from bench.scenarios import expiry, fanout, notify, notify_mqtt, poll, reads, rollouts, transitions
from bench.stats import Measure, Result
from shared.infra.db import connect

ALL = ("B1", "B2", "B3", "B4", "B5", "B6", "B7")


def _meta(quick: bool, db: BenchDB, wrk: str | None, t0: float) -> dict[str, Any]:
    sizes = QUICK if quick else FULL
    mode = "quick" if quick else "full"
    return report.meta(mode, db.version, db.settings, wrk, sizes.reps, time.monotonic() - t0)


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM: unwind, so servers and the embedded PostgreSQL are cleaned up


def _memory(name: str, mb: float) -> Result:
    return Result(f"Memory: {name}", Measure("peak RSS", "MB", [mb]), None, None, "<= 150 MB", mb <= 150)


async def main_async(quick: bool, only: set[str]) -> int:
    t0 = time.monotonic()
    sizes = QUICK if quick else FULL
    wrk = ensure_wrk() if "B2" in only else None
    results: list[Result] = []
    with embedded_postgres() as db:
        ctx = Ctx(db=db, sizes=sizes, quick=quick, wrk=wrk)
        ctx.log(f"PostgreSQL {db.version} ready; load generator: {wrk or 'python (wrk unavailable)'}")
        owner = await connect(db.owner_url)
        try:
            await seed_tenant(owner, "bench")
            await seed_devices(owner, "bench", sizes.devices)
            await owner.execute("VACUUM ANALYZE device_state")
        finally:
            await owner.close()
        ctx.log(f"seeded {sizes.devices:,} devices")
        meta = _meta(quick, db, wrk, t0)

        def save() -> None:  # after each scenario, so a long run that is stopped still leaves its figures
            meta["seconds"] = time.monotonic() - t0
            report.write(results, meta)

        if "B2" in only:
            with Service("device", db.app_url) as device, Service("floor", db.owner_url) as floor_server:
                results += await poll.run(ctx, device, floor_server)
                results.append(_memory("device API during B2", device.peak_rss_mb()))
            save()
        if "B3" in only:
            with Service("device", db.app_url) as device:
                results += await transitions.run(ctx, device)
                results.append(_memory("device API during B3", device.peak_rss_mb()))
            save()
        if "B4" in only:
            with Service("device", db.app_url) as device:
                results += await expiry.run(ctx, device)
            save()
        if "B7" in only:
            with Service("device", db.app_url) as device, Service("ui", db.app_url) as ui:
                results += await notify.run(ctx, device, ui)
            save()
            with Service("mqtt", db.app_url) as mqtt, Service("ui", db.app_url) as ui:
                results += await notify_mqtt.run(ctx, mqtt, ui)
            save()
        if "B6" in only:
            results += await rollouts.run(ctx)
            save()
        if only & {"B1", "B5"}:
            with Service("ui", db.app_url) as ui:
                if "B5" in only:
                    results += await reads.run(ctx, ui)
                    save()
                if "B1" in only:
                    results += await fanout.run(ctx, ui)
                results.append(_memory("operator API during B1/B5", ui.peak_rss_mb()))
            save()
        meta["seconds"] = time.monotonic() - t0
        meta["complete"] = True
    report.print_table(results, meta)
    md, js = report.write(results, meta)
    print(f"written: {md} and {js}")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, under 2 minutes")
    parser.add_argument("--only", default=",".join(ALL), help="comma-separated scenarios, e.g. B2,B3")
    args = parser.parse_args()
    only = {s.strip().upper() for s in args.only.split(",") if s.strip()}
    if not only <= set(ALL):
        parser.error(f"unknown scenarios: {sorted(only - set(ALL))}")
    logging.basicConfig(level=logging.WARNING)
    signal.signal(signal.SIGTERM, _stop)
    sys.exit(asyncio.run(main_async(args.quick, only)))


if __name__ == "__main__":
    main()
