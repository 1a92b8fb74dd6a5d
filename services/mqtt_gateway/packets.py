"""Decoding the packets a device sends and encoding the gateway's, on the primitives of codec.py. A decoded
packet is checked as the specification requires (reserved flags, packet identifiers, QoS); anything else
raises MalformedPacket, and the connection ends."""

from __future__ import annotations

import struct

from mqtt_gateway.codec import (
    AUTH,
    CONNACK,
    CONNECT,
    DISCONNECT,
    MQTT5,
    MQTT311,
    PINGREQ,
    PINGRESP,
    PROTOCOL_ERROR,
    PUBACK,
    PUBLISH,
    QOS_NOT_SUPPORTED,
    SUBACK,
    SUBSCRIBE,
    SUCCESS,
    UNSUBACK,
    UNSUBSCRIBE,
    Ack,
    Connect,
    Disconnect,
    MalformedPacket,
    Packet,
    Ping,
    Properties,
    Publish,
    Reader,
    Subscribe,
    Unsubscribe,
    encode_properties,
    encode_string,
    packet_bytes,
)


class UnsupportedVersion(MalformedPacket):
    """CONNECT of a protocol level other than 4 (3.1.1) or 5: CONNACK refused, then closed."""


def decode_connect(body: bytes) -> Connect:
    r = Reader(body)
    name = r.string()
    level = r.byte()
    if name != "MQTT" or level not in (MQTT311, MQTT5):
        raise UnsupportedVersion(f"protocol {name!r} level {level} is not MQTT 3.1.1 or 5")
    flags = r.byte()
    if flags & 0x01:
        raise MalformedPacket("CONNECT reserved flag set")
    keep_alive = r.int2()
    props = r.properties() if level == MQTT5 else {}
    client_id = r.string()
    will_topic = None
    if flags & 0x04:
        if level == MQTT5:
            r.properties()
        will_topic = r.string()
        r.binary()
        if (flags >> 3) & 0x03 == 3:
            raise MalformedPacket("will QoS 3")
    elif flags & 0x38:
        raise MalformedPacket("will QoS or retain without a will")
    username = r.string() if flags & 0x80 else None
    password = r.binary() if flags & 0x40 else None
    if r.left():
        raise MalformedPacket("bytes after the CONNECT payload")
    return Connect(level, client_id, bool(flags & 0x02), keep_alive, username, password, props, will_topic)


def decode(ptype: int, flags: int, body: bytes, version: int) -> Packet:
    """A packet after CONNECT. `version` is the connection's protocol level."""
    r = Reader(body)
    v5 = version == MQTT5
    if ptype == PUBLISH:
        qos = (flags >> 1) & 0x03
        if qos == 3:
            raise MalformedPacket("PUBLISH QoS 3")
        if qos == 2:
            raise MalformedPacket("QoS 2 is not supported (CONNACK maximum QoS 1)", QOS_NOT_SUPPORTED)
        topic = r.string()
        packet_id = r.int2() if qos else None
        if packet_id == 0:
            raise MalformedPacket("packet identifier 0", PROTOCOL_ERROR)
        props = r.properties() if v5 else {}
        return Publish(topic, r.take(r.left()), qos, packet_id, bool(flags & 0x01), bool(flags & 0x08), props)
    if ptype == PUBACK:
        _flags(flags, 0, "PUBACK")
        packet_id = r.int2()
        reason = r.byte() if v5 and r.left() else SUCCESS
        if v5 and r.left():
            r.properties()
        return Ack(packet_id, reason)
    if ptype in (SUBSCRIBE, UNSUBSCRIBE):
        _flags(flags, 2, "SUBSCRIBE" if ptype == SUBSCRIBE else "UNSUBSCRIBE")
        packet_id = r.int2()
        if packet_id == 0:
            raise MalformedPacket("packet identifier 0", PROTOCOL_ERROR)
        props = r.properties() if v5 else {}
        if ptype == UNSUBSCRIBE:
            filters = []
            while r.left():
                filters.append(r.string())
            if not filters:
                raise MalformedPacket("UNSUBSCRIBE without a topic filter", PROTOCOL_ERROR)
            return Unsubscribe(packet_id, filters, props)
        subs = []
        while r.left():
            topic = r.string()
            options = r.byte()
            if options & (0xC0 if v5 else 0xFC) or options & 0x03 == 3:
                raise MalformedPacket("SUBSCRIBE options reserved bits or QoS 3")
            subs.append((topic, options))
        if not subs:
            raise MalformedPacket("SUBSCRIBE without a topic filter", PROTOCOL_ERROR)
        return Subscribe(packet_id, subs, props)
    if ptype == PINGREQ:
        _flags(flags, 0, "PINGREQ")
        return Ping()
    if ptype == DISCONNECT:
        _flags(flags, 0, "DISCONNECT")
        reason = r.byte() if v5 and r.left() else SUCCESS
        props = r.properties() if v5 and r.left() else {}
        return Disconnect(reason, props)
    if ptype == CONNECT:
        raise MalformedPacket("a second CONNECT", PROTOCOL_ERROR)
    if ptype == AUTH and v5:
        raise MalformedPacket("enhanced authentication is not supported", PROTOCOL_ERROR)
    raise MalformedPacket(f"packet type {ptype} is not accepted from a client", PROTOCOL_ERROR)


def _flags(flags: int, expected: int, name: str) -> None:
    if flags != expected:
        raise MalformedPacket(f"{name} with reserved flags {flags:#x}")


# --- the gateway's packets ----------------------------------------------------------------------------------


def connack(version: int, code: int, session_present: bool = False, props: Properties | None = None) -> bytes:
    """`code`: the MQTT 5 reason code, or for 3.1.1 the return code."""
    body = bytes([1 if session_present and code == 0 else 0, code])
    if version == MQTT5:
        body += encode_properties(props or {})
    return packet_bytes(CONNACK, 0, body)


def publish(version: int, topic: str, payload: bytes, qos: int = 0, packet_id: int | None = None) -> bytes:
    body = encode_string(topic)
    if qos:
        assert packet_id
        body += struct.pack("!H", packet_id)
    if version == MQTT5:
        body += encode_properties({})
    return packet_bytes(PUBLISH, qos << 1, body + payload)


def puback(version: int, packet_id: int, reason: int = SUCCESS) -> bytes:
    body = struct.pack("!H", packet_id)
    if version == MQTT5 and reason != SUCCESS:
        body += bytes([reason])
    return packet_bytes(PUBACK, 0, body)


def suback(version: int, packet_id: int, codes: list[int]) -> bytes:
    props = encode_properties({}) if version == MQTT5 else b""
    return packet_bytes(SUBACK, 0, struct.pack("!H", packet_id) + props + bytes(codes))


def unsuback(version: int, packet_id: int, codes: list[int]) -> bytes:
    if version == MQTT5:
        return packet_bytes(UNSUBACK, 0, struct.pack("!H", packet_id) + encode_properties({}) + bytes(codes))
    return packet_bytes(UNSUBACK, 0, struct.pack("!H", packet_id))


def pingresp() -> bytes:
    return packet_bytes(PINGRESP, 0, b"")


def disconnect(reason: int, reason_string: str | None = None) -> bytes:
    """MQTT 5 only (a 3.1.1 server just closes the connection)."""
    props: Properties = {"reason_string": reason_string} if reason_string else {}
    return packet_bytes(DISCONNECT, 0, bytes([reason]) + encode_properties(props))
