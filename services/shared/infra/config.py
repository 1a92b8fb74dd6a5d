"""Settings, read once from the environment (and the CLI, which sets the same variables)."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_ROLE = "iotcloud_app"
OWNER_ROLE = "iot"
DB_NAME = "iotcloud"
LOOPBACK = "127.0.0.1"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IOTCLOUD_", extra="ignore")

    home: Path = Path(".iotcloud")
    # Owner (migration) URL of the iotcloud database. Unset: embedded PostgreSQL under `home`.
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "IOTCLOUD_DATABASE_URL")
    )
    # Runtime URL (role without table ownership and without BYPASSRLS). Unset: derived.
    app_database_url: str | None = None
    secret: str | None = None
    token_ttl_minutes: int = 12 * 60
    # addresses the APIs listen on: IOTCLOUD_BIND for both (e.g. 0.0.0.0), IOTCLOUD_UI_HOST /
    # IOTCLOUD_DEVICE_HOST for one of them (they win over IOTCLOUD_BIND); loopback by default
    bind: str | None = None
    ui_host: str = LOOPBACK
    ui_port: int = 8000
    device_host: str = LOOPBACK
    device_port: int = 8080
    # "pgbouncer": the runtime URL goes through PgBouncer in transaction pooling mode (docs/operations.md);
    # LISTEN then needs a direct URL (listen_database_url), else devices' long polls rely on polling alone
    database_pooler: Literal["none", "pgbouncer"] = "none"
    listen_database_url: str | None = None
    jobs_tick_seconds: float = 60.0
    # how often the worker starts scheduled jobs, checks abort criteria and reaches rollouts' next devices
    rollout_tick_seconds: float = 5.0
    # the retention purge (docs/operations.md): how often the worker looks for what is due
    retention_tick_seconds: float = Field(default=3600.0, gt=0)
    pool_min: int = 2
    pool_max: int = 20
    last_seen_interval_seconds: int = 60
    # failed device authentications (missing, unknown or revoked token) per client address and minute
    # before that address's bad tokens get 429; a valid token is never refused by it
    device_auth_failures_per_minute: int = Field(default=30, ge=1)
    # rate limits (docs/operations.md): requests per window on the device API per device and per tenant,
    # and on the operator API per user; 0 is no limit (the default); shared by every replica
    device_requests_per_device: int = Field(default=0, ge=0)
    device_requests_per_tenant: int = Field(default=0, ge=0)
    operator_requests_per_user: int = Field(default=0, ge=0)
    rate_limit_window_seconds: int = Field(default=60, ge=1)
    # operator logins (docs/operations.md): failed logins per account (e-mail) and per client address in a
    # window before 429 (the lockout then lasts a window); passwords checked at once per process, and how
    # long a login waits for its turn before 503
    login_failures_per_account: int = Field(default=5, ge=1)
    login_failures_per_address: int = Field(default=30, ge=1)
    login_failure_window_seconds: int = Field(default=15 * 60, ge=1)
    password_checks_at_once: int = Field(default=2, ge=1)
    password_check_wait_seconds: float = Field(default=10.0, gt=0)
    # group commit of device updates: statements in flight at once, updates per statement at most
    device_batches_in_flight: int = Field(default=1, ge=1)
    device_batch_max: int = Field(default=512, ge=1)
    # group read of device polls: statements in flight at once (each takes a connection of the pool)
    device_poll_batches_in_flight: int = Field(default=2, ge=1)
    # device poll (docs/jobs.md, device API): the sleep hint a poll answers with, when nothing is pending
    # and when work is; long-polls (?wait=N) waiting at once per device-API process (past it: 503), and how
    # often a waiting poll looks again by itself (a lost notification only delays the answer by this much)
    poll_sleep_seconds: int = Field(default=30, ge=0, le=86_400)
    poll_sleep_pending_seconds: int = Field(default=5, ge=0, le=86_400)
    poll_waiters_max: int = Field(default=10_000, ge=0)
    poll_fallback_seconds: float = Field(default=5.0, gt=0, le=60)
    static_dir: Path | None = None
    # the AWS-compatible API (docs/aws-compat.md): its own port, and the region its ARNs and SigV4 scope name
    aws_host: str = LOOPBACK  # IOTCLOUD_BIND applies to it too
    aws_port: int = Field(default=8090, ge=1, le=65535)
    aws_region: str = Field(default="us-east-1", pattern=r"^[a-z0-9-]{1,32}$")
    # MQTT gateway (docs/mqtt.md): where it listens, and the host devices are told to connect to (default:
    # the host name of the operator's request that created or read the device)
    mqtt_host: str = LOOPBACK  # IOTCLOUD_BIND applies to it too
    mqtt_port: int = Field(default=1883, ge=1, le=65535)
    mqtt_public_host: str | None = None
    # artifacts (docs/artifacts.md): where their bytes are stored (default: <home>/artifacts), the largest
    # upload, how long a device's download URL stays valid, and the device API's base URL as devices reach it
    # (default: the base URL of the request that received the job)
    artifact_dir: Path | None = None
    artifact_max_bytes: int = Field(default=512 * 1024 * 1024, ge=1)
    artifact_url_ttl_seconds: int = Field(default=3600, ge=1)
    artifact_base_url: str | None = None

    def artifact_root(self) -> Path:
        return self.artifact_dir or self.home / "artifacts"

    # observability (docs/operations.md): the process's Prometheus endpoint (unset: none; `iotcloud up`
    # defaults it), text or json log lines, and one access line per request (unset: on with json)
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    log_format: Literal["text", "json"] = "text"
    access_log: bool | None = None

    @property
    def transaction_pooler(self) -> bool:
        return self.database_pooler == "pgbouncer"

    def logs_requests(self) -> bool:
        return self.access_log if self.access_log is not None else self.log_format == "json"

    @model_validator(mode="after")
    def _bind_both_services(self) -> Settings:
        """IOTCLOUD_BIND is the address of every service whose own host was not given."""
        if self.bind:
            for host in ("ui_host", "device_host", "mqtt_host", "aws_host"):
                if host not in self.model_fields_set:
                    setattr(self, host, self.bind)
        return self

    def signing_secret(self) -> str:
        """IOTCLOUD_SECRET, or a secret generated once and kept in the home."""
        if self.secret:
            return self.secret
        path = self.home / "secret"
        if path.exists():
            return path.read_text().strip()
        self.home.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(48)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(value)
        tmp.chmod(0o600)
        try:
            tmp.rename(path) if not path.exists() else tmp.unlink()
        except FileExistsError:  # pragma: no cover - lost a race with another process
            tmp.unlink(missing_ok=True)
        return path.read_text().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
