"""A bare MQTT client over asyncio streams, byte by byte from the specification (independent of the
gateway's codec), for what an SDK will not do: subscribe to another thing's topics, publish outside its
namespace, read reason codes exactly."""

from __future__ import annotations

import asyncio
import struct


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


class RawClient:
    def __init__(self, port: int, v5: bool = True, source: str | None = None) -> None:
        self.port = port
        self.v5 = v5
        self.source = source  # a loopback address of its own (127.x.y.z), for per-address limits
        self.reader: asyncio.StreamReader
        self.writer: asyncio.StreamWriter

    def _props(self) -> bytes:
        return b"\x00" if self.v5 else b""

    async def connect(self, client_id: str, username: str | None, password: str | None) -> tuple[int, int]:
        """CONNECT; returns (packet type, reason/return code) of the answer."""
        local = (self.source, 0) if self.source else None
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port, local_addr=local)
        flags = 0x02 | (0x80 if username is not None else 0) | (0x40 if password is not None else 0)
        body = _s("MQTT") + bytes([5 if self.v5 else 4, flags]) + struct.pack("!H", 30) + self._props()
        body += _s(client_id) + (_s(username) if username is not None else b"")
        body += _s(password) if password is not None else b""
        self.writer.write(bytes([0x10]) + _varint(len(body)) + body)
        ptype, payload = await self.read()
        return ptype, payload[1]

    async def read(self, timeout: float = 5.0) -> tuple[int, bytes]:
        first = (await asyncio.wait_for(self.reader.readexactly(1), timeout))[0]
        length, shift = 0, 0
        while True:
            b = (await self.reader.readexactly(1))[0]
            length |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        return first >> 4, await self.reader.readexactly(length)

    async def subscribe(self, packet_id: int, *filters: str) -> list[int]:
        body = struct.pack("!H", packet_id) + self._props() + b"".join(_s(f) + b"\x01" for f in filters)
        self.writer.write(bytes([0x82]) + _varint(len(body)) + body)
        ptype, payload = await self.read()
        assert ptype == 9, ptype
        return list(payload[3:] if self.v5 else payload[2:])

    async def publish(self, topic: str, payload: bytes, packet_id: int | None = None) -> int | None:
        """QoS 1 with a packet id (returns the PUBACK's reason code; 0 when it has none), else QoS 0."""
        body = _s(topic) + (struct.pack("!H", packet_id) if packet_id else b"") + self._props() + payload
        self.writer.write(bytes([0x32 if packet_id else 0x30]) + _varint(len(body)) + body)
        if not packet_id:
            return None
        ptype, ack = await self.read()
        assert ptype == 4, ptype
        return ack[2] if len(ack) > 2 else 0

    async def next_publish(self, timeout: float = 2.0) -> tuple[str, bytes]:
        while True:
            ptype, body = await self.read(timeout)
            if ptype == 3:
                n = struct.unpack("!H", body[:2])[0]
                topic = body[2 : 2 + n].decode()
                rest = body[2 + n :]
                # QoS 1 deliveries carry a packet id (the gateway's publishes are QoS 1 for QoS 1 filters)
                rest = rest[2:]
                if self.v5:
                    plen = rest[0]
                    rest = rest[1 + plen :]
                return topic, rest

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def closed(self, timeout: float = 5.0) -> tuple[int, bytes] | None:
        """Waits for the server to end the connection: its DISCONNECT (MQTT 5) or None at end of stream."""
        try:
            return await self.read(timeout)
        except asyncio.IncompleteReadError:
            return None

    def close(self) -> None:
        self.writer.close()
