"""MQTT 3.1.1 and 5.0 packets, server side: what a device sends is decoded, what the gateway answers is
encoded. Only what devices of the `$aws/things/...` namespace need: CONNECT/CONNACK, PUBLISH (QoS 0 and 1)
with PUBACK, SUBSCRIBE/SUBACK, UNSUBSCRIBE/UNSUBACK, PINGREQ/PINGRESP, DISCONNECT. MQTT 5 properties are
parsed whole (every property the specification defines, of its type) and the ones the gateway has no use
for are skipped; an identifier the specification does not define cannot be skipped (its length is
unknown) and is a malformed packet, as the specification says. No maintained Python library offers a
server-side MQTT 5 codec (docs/mqtt.md), hence this module; tests/unit/test_mqtt_codec.py checks it
against known byte strings."""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass, field
from typing import Any

MQTT311 = 4
MQTT5 = 5

CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT, AUTH = 8, 9, 10, 11, 12, 13, 14, 15

# MQTT 5 reason codes the gateway uses
SUCCESS = 0x00
NO_MATCHING_SUBSCRIBERS = 0x10
UNSPECIFIED = 0x80
MALFORMED = 0x81
PROTOCOL_ERROR = 0x82
UNSUPPORTED_VERSION = 0x84
BAD_CLIENT_ID = 0x85
BAD_CREDENTIALS = 0x86
NOT_AUTHORIZED = 0x87
SERVER_UNAVAILABLE = 0x88
SERVER_SHUTTING_DOWN = 0x8B
KEEP_ALIVE_TIMEOUT = 0x8D
SESSION_TAKEN_OVER = 0x8E
TOPIC_FILTER_INVALID = 0x8F
TOPIC_NAME_INVALID = 0x90
PACKET_TOO_LARGE = 0x95
ADMINISTRATIVE_ACTION = 0x98
QOS_NOT_SUPPORTED = 0x9B
CONNECTION_RATE_EXCEEDED = 0x9F
SHARED_SUBS_NOT_SUPPORTED = 0x9E
SUBSCRIPTION_IDS_NOT_SUPPORTED = 0xA1
WILDCARDS_NOT_SUPPORTED = 0xA2

# MQTT 3.1.1 CONNACK return codes
V3_ACCEPTED, V3_BAD_VERSION, V3_BAD_CLIENT_ID, V3_UNAVAILABLE, V3_BAD_CREDENTIALS, V3_NOT_AUTHORIZED = range(
    6
)
V3_SUBACK_FAILURE = 0x80

# MQTT 5 property identifiers and their types (MQTT 5.0, 2.2.2.2)
BYTE, INT2, INT4, VARINT, STRING, BINARY, PAIR = "byte", "int2", "int4", "varint", "string", "binary", "pair"
PROPERTIES: dict[int, tuple[str, str]] = {
    0x01: ("payload_format_indicator", BYTE), 0x02: ("message_expiry_interval", INT4),
    0x03: ("content_type", STRING), 0x08: ("response_topic", STRING), 0x09: ("correlation_data", BINARY),
    0x0B: ("subscription_identifier", VARINT), 0x11: ("session_expiry_interval", INT4),
    0x12: ("assigned_client_identifier", STRING), 0x13: ("server_keep_alive", INT2),
    0x15: ("authentication_method", STRING), 0x16: ("authentication_data", BINARY),
    0x17: ("request_problem_information", BYTE), 0x18: ("will_delay_interval", INT4),
    0x19: ("request_response_information", BYTE), 0x1A: ("response_information", STRING),
    0x1C: ("server_reference", STRING), 0x1F: ("reason_string", STRING), 0x21: ("receive_maximum", INT2),
    0x22: ("topic_alias_maximum", INT2), 0x23: ("topic_alias", INT2), 0x24: ("maximum_qos", BYTE),
    0x25: ("retain_available", BYTE), 0x26: ("user_property", PAIR), 0x27: ("maximum_packet_size", INT4),
    0x28: ("wildcard_subscription_available", BYTE), 0x29: ("subscription_identifier_available", BYTE),
    0x2A: ("shared_subscription_available", BYTE),
}  # fmt: skip
PROPERTY_IDS = {name: (ident, kind) for ident, (name, kind) in PROPERTIES.items()}


class MalformedPacket(Exception):
    """The bytes are not a valid packet: the connection is closed (MQTT 5: DISCONNECT with `reason`)."""

    def __init__(self, message: str, reason: int = MALFORMED) -> None:
        super().__init__(message)
        self.reason = reason


Properties = dict[str, Any]  # user_property: list of pairs; subscription_identifier: list of ints


@dataclass(slots=True)
class Connect:
    version: int
    client_id: str
    clean_start: bool
    keep_alive: int
    username: str | None
    password: bytes | None
    properties: Properties = field(default_factory=dict)
    will_topic: str | None = None


@dataclass(slots=True)
class Publish:
    topic: str
    payload: bytes
    qos: int
    packet_id: int | None
    retain: bool = False
    dup: bool = False
    properties: Properties = field(default_factory=dict)


@dataclass(slots=True)
class Subscribe:
    packet_id: int
    filters: list[tuple[str, int]]  # (filter, options byte: QoS in the low 2 bits)
    properties: Properties = field(default_factory=dict)


@dataclass(slots=True)
class Unsubscribe:
    packet_id: int
    filters: list[str]
    properties: Properties = field(default_factory=dict)


@dataclass(slots=True)
class Ack:  # PUBACK from the device
    packet_id: int
    reason: int = SUCCESS


@dataclass(slots=True)
class Ping:
    pass


@dataclass(slots=True)
class Disconnect:
    reason: int = SUCCESS
    properties: Properties = field(default_factory=dict)


Packet = Connect | Publish | Subscribe | Unsubscribe | Ack | Ping | Disconnect


# --- primitives --------------------------------------------------------------------------------------------


def encode_varint(value: int) -> bytes:
    if not 0 <= value <= 268_435_455:
        raise ValueError("variable byte integer out of range")
    out = bytearray()
    while True:
        byte, value = value % 128, value // 128
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


class Reader:
    """Reads the fields of one packet's body; running past its end is a malformed packet."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def left(self) -> int:
        return len(self.data) - self.pos

    def take(self, n: int) -> bytes:
        if n > self.left():
            raise MalformedPacket("packet shorter than its fields")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]

    def int2(self) -> int:
        return int(struct.unpack("!H", self.take(2))[0])

    def int4(self) -> int:
        return int(struct.unpack("!I", self.take(4))[0])

    def varint(self) -> int:
        value = 0
        for shift in range(0, 28, 7):
            byte = self.byte()
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
        raise MalformedPacket("variable byte integer longer than 4 bytes")

    def binary(self) -> bytes:
        return self.take(self.int2())

    def string(self) -> str:
        raw = self.binary()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedPacket("string is not UTF-8") from None
        if "\x00" in text:
            raise MalformedPacket("string contains U+0000")
        return text

    def properties(self) -> Properties:
        length = self.varint()
        inner = Reader(self.take(length))
        props: Properties = {}
        while inner.left():
            ident = inner.varint()
            if ident not in PROPERTIES:
                raise MalformedPacket(f"unknown property identifier 0x{ident:02x}")
            name, kind = PROPERTIES[ident]
            value = _read_property(inner, kind)
            if kind == PAIR or name == "subscription_identifier":
                props.setdefault(name, []).append(value)
            elif name in props:
                raise MalformedPacket(f"property {name} given twice", PROTOCOL_ERROR)
            else:
                props[name] = value
        return props


def _read_property(r: Reader, kind: str) -> Any:
    if kind == BYTE:
        return r.byte()
    if kind == INT2:
        return r.int2()
    if kind == INT4:
        return r.int4()
    if kind == VARINT:
        return r.varint()
    if kind == STRING:
        return r.string()
    if kind == BINARY:
        return r.binary()
    return (r.string(), r.string())


def encode_string(text: str) -> bytes:
    raw = text.encode("utf-8")
    return struct.pack("!H", len(raw)) + raw


def encode_properties(props: Properties) -> bytes:
    out = bytearray()
    for name, value in props.items():
        ident, kind = PROPERTY_IDS[name]
        for item in value if kind == PAIR else [value]:
            out += encode_varint(ident)
            if kind == BYTE:
                out.append(item)
            elif kind == INT2:
                out += struct.pack("!H", item)
            elif kind == INT4:
                out += struct.pack("!I", item)
            elif kind == VARINT:
                out += encode_varint(item)
            elif kind == STRING:
                out += encode_string(item)
            elif kind == BINARY:
                out += struct.pack("!H", len(item)) + item
            else:
                out += encode_string(item[0]) + encode_string(item[1])
    return encode_varint(len(out)) + bytes(out)


def packet_bytes(ptype: int, flags: int, body: bytes) -> bytes:
    return bytes([(ptype << 4) | flags]) + encode_varint(len(body)) + body


async def read_packet(reader: asyncio.StreamReader, max_size: int) -> tuple[int, int, bytes]:
    """The next packet's type, flags and body. Raises asyncio.IncompleteReadError at end of stream."""
    first = (await reader.readexactly(1))[0]
    length = 0
    for shift in range(0, 28, 7):
        byte = (await reader.readexactly(1))[0]
        length |= (byte & 0x7F) << shift
        if not byte & 0x80:
            break
    else:
        raise MalformedPacket("remaining length longer than 4 bytes")
    if length > max_size:
        raise MalformedPacket(f"packet of {length} bytes exceeds {max_size}", PACKET_TOO_LARGE)
    return first >> 4, first & 0x0F, await reader.readexactly(length)
