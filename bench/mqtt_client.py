"""A lean MQTT 3.1.1 device for the bench (a thousand of them in one process): CONNECT, SUBSCRIBE at QoS 0,
PUBLISH at QoS 1 waiting for its PUBACK, and a reader that timestamps what the server publishes. Written from
the specification, independent of the gateway's codec."""

from __future__ import annotations

import asyncio
import contextlib
import struct
import time


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n % 128, n // 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _s(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack("!H", len(raw)) + raw


class BenchDevice:
    def __init__(self, port: int, thing: str, token: str) -> None:
        self.port, self.thing, self.token = port, thing, token
        self.received: asyncio.Queue[tuple[float, str, bytes]] = asyncio.Queue()
        self._acks: dict[int, asyncio.Future[float]] = {}
        self._next_id = 0
        self._reader_task: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        body = _s("MQTT") + bytes([4, 0xC2]) + struct.pack("!H", 300) + _s(self.thing) + _s(self.thing)
        body += _s(self.token)
        self.writer.write(bytes([0x10]) + _varint(len(body)) + body)
        ptype, payload = await self._read()
        if ptype != 2 or payload[1] != 0:
            raise RuntimeError(f"{self.thing}: CONNACK {ptype} {payload!r}")
        topic = f"$aws/things/{self.thing}/jobs/#"
        sub = struct.pack("!H", 1) + _s(topic) + b"\x00"
        self.writer.write(bytes([0x82]) + _varint(len(sub)) + sub)
        ptype, payload = await self._read()
        if ptype != 9 or payload[2] != 0:
            raise RuntimeError(f"{self.thing}: SUBACK {payload!r}")
        self._reader_task = asyncio.create_task(self._read_loop())

    async def _read(self) -> tuple[int, bytes]:
        first = (await self.reader.readexactly(1))[0]
        length, shift = 0, 0
        while True:
            b = (await self.reader.readexactly(1))[0]
            length |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        return first >> 4, await self.reader.readexactly(length)

    async def _read_loop(self) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                ptype, body = await self._read()
                now = time.perf_counter()
                if ptype == 3:  # PUBLISH at QoS 0 (our subscription's)
                    n = struct.unpack("!H", body[:2])[0]
                    self.received.put_nowait((now, body[2 : 2 + n].decode(), body[2 + n :]))
                elif ptype == 4:  # PUBACK
                    fut = self._acks.pop(struct.unpack("!H", body[:2])[0], None)
                    if fut is not None and not fut.done():
                        fut.set_result(now)

    async def publish(self, topic: str, payload: bytes) -> float:
        """PUBLISH at QoS 1; returns when its PUBACK arrived."""
        self._next_id = self._next_id % 65535 + 1
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._acks[self._next_id] = fut
        body = _s(topic) + struct.pack("!H", self._next_id) + payload
        self.writer.write(bytes([0x32]) + _varint(len(body)) + body)
        return await asyncio.wait_for(fut, 60)

    async def expect(self, suffix: str, timeout: float = 60) -> tuple[float, bytes]:
        """The next publish on a topic ending with `suffix` (others are skipped)."""
        while True:
            at, topic, payload = await asyncio.wait_for(self.received.get(), timeout)
            if topic.endswith(suffix):
                return at, payload

    async def close(self) -> None:
        if self._reader_task:
            self._reader_task.cancel()
        with contextlib.suppress(OSError):
            self.writer.write(b"\xe0\x00")
            self.writer.close()
