"""What the reliability suite did, for the closing summary line: devices simulated, accepted transitions,
faults injected, fuzz cases, acknowledged updates lost, unexpected 5xx answers."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx


@dataclass
class Tally:
    devices: int = 0
    transitions: int = 0
    faults: list[str] = field(default_factory=list)
    fuzz_cases: int = 0
    acked_checked: int = 0
    lost: int = 0
    requests: int = 0
    server_errors: int = 0  # any 5xx that is not a planned 503 during an outage
    planned_503: int = 0
    outage: bool = False  # while True, 503 answers are expected (database stopped)
    errors_seen: list[str] = field(default_factory=list)

    async def on_response(self, response: httpx.Response) -> None:
        """httpx event hook: counts requests and 5xx answers."""
        self.requests += 1
        if response.status_code >= 500:
            if response.status_code == 503 and self.outage:
                self.planned_503 += 1
            else:
                self.server_errors += 1
                self.errors_seen.append(
                    f"{response.request.method} {response.request.url.path} -> {response.status_code}"
                )

    def summary(self) -> str:
        return (
            f"reliability: {self.devices} devices simulated, {self.transitions} transitions, "
            f"{len(self.faults)} faults injected ({', '.join(self.faults) or 'none'}), "
            f"{self.fuzz_cases} fuzz cases, {self.acked_checked} acknowledged updates checked, "
            f"{self.lost} lost, {self.server_errors} 5xx ({self.planned_503} planned 503 during outages), "
            f"{self.requests} requests"
        )


TALLY = Tally()


def client(base_url: str, **kw: object) -> httpx.AsyncClient:
    """An httpx client whose answers are counted (5xx included) in TALLY."""
    hooks = {"response": [TALLY.on_response]}
    return httpx.AsyncClient(base_url=base_url, timeout=30, event_hooks=hooks, **kw)  # type: ignore[arg-type]
