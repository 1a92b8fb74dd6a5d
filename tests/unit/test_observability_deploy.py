"""The Grafana dashboard and the Prometheus alert rules under deploy/ name only metrics the services
define (so they cannot drift from shared/observability/metrics.py), and the dashboard shows every one."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import REGISTRY

from shared.observability import metrics

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "iotcloud.json"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
NAME = re.compile(r"\biotcloud_[a-z0-9_]+\b")


def exprs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("expr", "query") and isinstance(value, str):
                yield value
            else:
                yield from exprs(value)
    elif isinstance(node, list):
        for item in node:
            yield from exprs(item)


def defined_families() -> set[str]:
    return {f.name for f in REGISTRY.collect() if f.name.startswith(metrics.PREFIX)}


def test_dashboard_names_only_defined_metrics_and_shows_them_all() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    queries = list(exprs(dashboard["panels"]))
    assert len(queries) >= 20
    known = metrics.metric_names()
    used = {name for q in queries for name in NAME.findall(q)}
    assert used and used <= known, f"unknown metrics in the dashboard: {sorted(used - known)}"
    shown = {f for f in defined_families() if any(u == f or u.startswith(f + "_") for u in used)}
    assert shown == defined_families(), f"metrics the dashboard does not show: {defined_families() - shown}"
    assert all(NAME.search(q) for q in queries), "a panel query names no iotcloud metric"


def test_alert_rules_name_only_defined_metrics() -> None:
    rules = [r for g in yaml.safe_load(ALERTS.read_text())["groups"] for r in g["rules"]]
    names = {r["alert"] for r in rules}
    assert {"IotcloudTickFallingBehind", "IotcloudHigh5xxRate", "IotcloudDatabaseUnavailable"} <= names
    known = metrics.metric_names()
    for rule in rules:
        used = set(NAME.findall(rule["expr"]))
        assert used, f"{rule['alert']} names no iotcloud metric"
        assert used <= known, f"{rule['alert']}: unknown metrics {sorted(used - known)}"
        assert rule["labels"]["severity"] in ("warning", "critical") and rule["annotations"]["summary"]


def test_the_drift_check_sees_a_wrong_name() -> None:
    """A renamed metric would fail the tests above: the known names are exact, suffixes included."""
    known = metrics.metric_names()
    assert (
        "iotcloud_http_requests_total" in known and "iotcloud_http_request_duration_seconds_bucket" in known
    )
    assert "iotcloud_http_requests" in known and "iotcloud_http_request_total" not in known
    assert "iotcloud_jobs_total" not in known  # a gauge has no _total
