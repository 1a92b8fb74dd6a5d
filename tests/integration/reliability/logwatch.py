"""Secrets must never reach the logs. Every secret the suite hands out (provision tokens, passwords, JWTs)
is registered here; in-process log records and the service processes' log files are scanned for them."""

from __future__ import annotations

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
            found += [f"{name} contains a secret starting {s[:12]!r}" for s in self.secrets if s in text]
        self.scanned_bytes = total
        return found


WATCH = SecretWatch()
