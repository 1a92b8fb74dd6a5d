"""The gateway process: a TCP server speaking MQTT to devices, one Session per connected thing, the Jobs API
behind them, and the watchers (watchers.py) that disconnect revoked devices and tell notify/notify-next.
Each device is connected to one gateway process, which alone processes its requests: N gateways behind a
TCP load balancer never process a request twice (docs/mqtt.md)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg

from mqtt_gateway import codec, packets
from mqtt_gateway.jobs_api import Device, JobsApi
from mqtt_gateway.session import Session
from mqtt_gateway.watchers import Watchers
from shared import ratelimits
from shared.auth import token_hash
from shared.infra.config import Settings
from shared.infra.db import DB_ERRORS, DB_UNAVAILABLE
from shared.jobs.group_commit import GroupCommit
from shared.observability import metrics

log = logging.getLogger("iotcloud.mqtt")

AUTH = "SELECT tenant_id, device_id FROM iotcloud.mqtt_auth($1, $2, $3, $4)"
CONNECT_TIMEOUT = 10.0
MAX_PACKET = 256 * 1024
# what the gateway offers, in its MQTT 5 CONNACK
CONNACK_PROPERTIES = {
    "maximum_qos": 1, "retain_available": 0, "shared_subscription_available": 0,
    "subscription_identifier_available": 0, "wildcard_subscription_available": 1,
    "topic_alias_maximum": 0, "maximum_packet_size": MAX_PACKET,
}  # fmt: skip


def _utcnow() -> datetime:
    return datetime.now(UTC)


def username_thing(username: str | None) -> str | None:
    """The thing a username names: AWS SDKs append `?SDK=...&Platform=...` metrics to it; AWS ignores
    that suffix, and so do we."""
    return None if username is None else username.split("?", 1)[0]


class Gateway:
    def __init__(
        self, settings: Settings, pool: asyncpg.Pool, dsn: str, clock: Callable[[], datetime] = _utcnow
    ) -> None:
        self.settings = settings
        self.pool = pool
        self.clock = clock
        self.api = JobsApi(pool, GroupCommit.of(pool, settings), clock)
        self.limits = ratelimits.RateLimits.of(settings)
        self.sessions: dict[str, Session] = {}
        self.watchers = Watchers(self, dsn)
        self.server: asyncio.Server | None = None
        self._conns: set[asyncio.Task[None]] = set()

    async def start(self, host: str, port: int) -> None:
        self.server = await asyncio.start_server(self._connection, host, port)
        self.watchers.start()

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
        await self.watchers.stop()
        for session in list(self.sessions.values()):
            session.close(codec.SERVER_SHUTTING_DOWN)
        for task in list(self._conns):
            task.cancel()
        await asyncio.gather(*self._conns, return_exceptions=True)
        if self.server is not None:
            await self.server.wait_closed()

    def wake(self, session: Session) -> None:
        self.watchers.mark([session])

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conns.add(task)
        try:
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            pass
        except Exception:  # one connection's failure, never the server's
            log.exception("an MQTT connection failed")
        finally:
            self._conns.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            ptype, flags, body = await asyncio.wait_for(codec_read(reader), CONNECT_TIMEOUT)
            if ptype != codec.CONNECT or flags:
                return
            connect = packets.decode_connect(body)
        except packets.UnsupportedVersion:
            writer.write(packets.connack(codec.MQTT311, codec.V3_BAD_VERSION))
            return
        except codec.MalformedPacket:
            return
        session = await self._authenticate(connect, writer)
        if session is None:
            await writer.drain()
            return
        worker = asyncio.create_task(session.process_requests())
        metrics.MQTT_CONNECTIONS.inc()
        try:
            await self._read_loop(session, reader, connect.keep_alive)
        finally:
            metrics.MQTT_CONNECTIONS.dec()
            worker.cancel()
            if self.sessions.get(session.device.thing) is session:
                del self.sessions[session.device.thing]
            session.close()

    async def _authenticate(self, connect: codec.Connect, writer: asyncio.StreamWriter) -> Session | None:
        v5 = connect.version == codec.MQTT5
        thing = username_thing(connect.username)
        refuse = codec.NOT_AUTHORIZED if v5 else codec.V3_NOT_AUTHORIZED
        if connect.password is None or thing is None or connect.client_id != thing:
            metrics.MQTT_CONNECTS.labels("refused").inc()
            writer.write(
                packets.connack(connect.version, codec.BAD_CREDENTIALS if v5 else codec.V3_BAD_CREDENTIALS)
            )
            return None
        digest = token_hash(connect.password.decode("utf-8", "replace"))
        try:
            row = await self.pool.fetchrow(
                AUTH, thing, digest, self.settings.last_seen_interval_seconds, self.clock()
            )
            if row is None:
                metrics.MQTT_CONNECTS.labels("refused").inc()
                writer.write(packets.connack(connect.version, await self._refusal(writer, refuse, v5)))
                return None
            device = Device(thing, row["tenant_id"], row["device_id"], digest)
            session = Session(self, device, connect.version, writer, connect.username or "")
            await self.watchers.baseline(session)  # notify-next tells what changes after this CONNACK
        except DB_UNAVAILABLE:
            metrics.MQTT_CONNECTS.labels("unavailable").inc()
            writer.write(
                packets.connack(connect.version, codec.SERVER_UNAVAILABLE if v5 else codec.V3_UNAVAILABLE)
            )
            return None
        old = self.sessions.get(thing)
        if old is not None:  # session takeover, as the specification says
            old.close(codec.SESSION_TAKEN_OVER)
        self.sessions[thing] = session
        metrics.MQTT_CONNECTS.labels("accepted").inc()
        writer.write(packets.connack(connect.version, 0, False, CONNACK_PROPERTIES if v5 else None))
        log.info("%s connected (MQTT %s)", thing, "5" if v5 else "3.1.1")
        return session

    async def _refusal(self, writer: asyncio.StreamWriter, refuse: int, v5: bool) -> int:
        """A bad token is counted against the client's address by the device API's limiter (shared by every
        replica and by HTTP): past its limit, MQTT 5 hears 0x9F Connection rate exceeded. A valid token is
        never refused for its address."""
        peer = writer.get_extra_info("peername")
        address = str(peer[0]) if peer else "unknown"
        try:
            wait = await ratelimits.count_auth_failure(self.pool, self.limits, address, self.clock())
        except DB_ERRORS as exc:
            log.warning("a failed MQTT authentication was not counted (%s)", type(exc).__name__)
            wait = None
        if wait is not None:
            metrics.MQTT_CONNECTS.labels("rate_limited").inc()
            return codec.CONNECTION_RATE_EXCEEDED if v5 else refuse
        return refuse

    async def _read_loop(self, session: Session, reader: asyncio.StreamReader, keep_alive: int) -> None:
        timeout = keep_alive * 1.5 if keep_alive else None
        while not session.closed:
            try:
                ptype, flags, body = await asyncio.wait_for(codec_read(reader), timeout)
                packet = packets.decode(ptype, flags, body, session.version)
            except TimeoutError:
                session.close(codec.KEEP_ALIVE_TIMEOUT)
                return
            except codec.MalformedPacket as exc:
                session.close(exc.reason, str(exc))
                return
            if isinstance(packet, codec.Publish):
                session.on_publish(packet)
            elif isinstance(packet, codec.Subscribe):
                session.on_subscribe(packet)
            elif isinstance(packet, codec.Unsubscribe):
                session.on_unsubscribe(packet)
            elif isinstance(packet, codec.Ping):
                session.send(packets.pingresp())
            elif isinstance(packet, codec.Disconnect):
                session.close()
                return
            await session.writer.drain()


async def codec_read(reader: asyncio.StreamReader) -> tuple[int, int, bytes]:
    return await codec.read_packet(reader, MAX_PACKET)
