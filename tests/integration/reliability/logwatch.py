"""Secrets must never reach the logs. Every secret the suite hands out (provision tokens, passwords, JWTs)
is registered here; in-process log records and the service processes' log files are scanned for them.
The service processes log JSON (IOTCLOUD_LOG_FORMAT=json, procs.py): each of their lines must be one JSON
object, and its decoded values are scanned too (an escaped secret is still a secret)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path


class _Capture(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(level=logging.DEBUG)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except (TypeError, ValueError):
            text = str(record.msg)
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.sink.append(f"{record.name}: {text}")


@dataclass
class SecretWatch:
    secrets: set[str] = field(default_factory=set)
    records: list[str] = field(default_factory=list)
    files: set[Path] = field(default_factory=set)
    scanned_bytes: int = 0

    def secret(self, value: str) -> str:
        if len(value) >= 8:
            self.secrets.add(value)
        return value

    def attach(self) -> logging.Handler:
        handler = _Capture(self.records)
        root = logging.getLogger()
        root.addHandler(handler)
        if root.level > logging.INFO or root.level == logging.NOTSET:
            root.setLevel(logging.INFO)
        return handler

    json_files: set[Path] = field(default_factory=set)

    def sources(self) -> dict[str, str]:
        out = {"in-process logging": "\n".join(self.records)}
        for path in sorted(self.files):
            if path.exists():
                out[str(path)] = path.read_text(errors="replace")
        return out

    def leaks(self) -> list[str]:
        found = []
        total = 0
        for name, text in self.sources().items():
            total += len(text)
            if Path(name) in self.json_files:
                decoded, malformed = json_values(text)
                found += [f"{name}: not a JSON object: {line[:120]!r}" for line in malformed[:5]]
                text += "\n" + decoded
            found += [f"{name} contains a secret starting {s[:12]!r}" for s in self.secrets if s in text]
        self.scanned_bytes = total
        return found


def json_values(text: str) -> tuple[str, list[str]]:
    """The string values of a JSON-lines log, decoded, and the lines that are not JSON objects (a process's
    own start marker, written by the test, excepted)."""
    values: list[str] = []
    malformed: list[str] = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("--- start #"):
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            malformed.append(line)
            continue
        if not isinstance(obj, dict) or not {"time", "level", "service", "message"} <= obj.keys():
            malformed.append(line)
            continue
        values += [str(v) for v in obj.values()]
    return "\n".join(values), malformed


WATCH = SecretWatch()
