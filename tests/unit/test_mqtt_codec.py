"""The gateway's MQTT codec against byte strings written out from the MQTT 3.1.1 and 5.0 specifications."""

from __future__ import annotations

import asyncio

import pytest

from mqtt_gateway import codec, packets
from mqtt_gateway.codec import MalformedPacket, Reader, encode_properties, encode_varint
from mqtt_gateway.topics import matches, may_publish, may_subscribe, parse_request


@pytest.mark.parametrize(
    ("value", "raw"),
    [(0, "00"), (127, "7f"), (128, "8001"), (16383, "ff7f"), (16384, "808001"), (2097151, "ffff7f"),
     (2097152, "80808001"), (268435455, "ffffff7f")],
)  # fmt: skip
def test_variable_byte_integers_of_the_specification(value: int, raw: str) -> None:
    assert encode_varint(value) == bytes.fromhex(raw)
    assert Reader(bytes.fromhex(raw)).varint() == value


def test_a_varint_longer_than_4_bytes_is_malformed() -> None:
    with pytest.raises(MalformedPacket):
        Reader(bytes.fromhex("ffffffff7f")).varint()


V311_CONNECT = bytes.fromhex(
    "00044d515454"  # "MQTT"
    "04"  # level 4
    "c2"  # username, password, clean session
    "003c"  # keep alive 60
    "0003616263"  # client id "abc"
    "0003616263"  # username "abc"
    "00027077"  # password "pw"
)


def test_connect_311() -> None:
    c = packets.decode_connect(V311_CONNECT)
    assert (c.version, c.client_id, c.username, c.password, c.keep_alive, c.clean_start) == (
        4, "abc", "abc", b"pw", 60, True
    )  # fmt: skip


V5_CONNECT = bytes.fromhex(
    "00044d515454" "05" "c2" "001e"
    "14"  # properties: 20 bytes
    "1100000e10"  # session expiry interval 3600
    "21000a"  # receive maximum 10
    "2600016b000176"  # user property ("k", "v")
    "220005"  # topic alias maximum 5
    "1901"  # request response information 1
    "0001" "78"  # client id "x"
    "0012" "783f53444b3d507974686f6e26703d31"  # username "x?SDK=Python&p=1" (18 bytes)
    "0002" "7077"
)  # fmt: skip


def test_connect_5_with_properties() -> None:
    c = packets.decode_connect(V5_CONNECT.replace(bytes.fromhex("0012"), bytes.fromhex("0010"), 1))
    assert c.version == 5 and c.client_id == "x" and c.username == "x?SDK=Python&p=1"
    assert c.properties == {
        "session_expiry_interval": 3600,
        "receive_maximum": 10,
        "user_property": [("k", "v")],
        "topic_alias_maximum": 5,
        "request_response_information": 1,
    }


def test_unknown_property_is_malformed_and_a_repeated_one_a_protocol_error() -> None:
    with pytest.raises(MalformedPacket) as exc:
        Reader(bytes.fromhex("027f00")).properties()
    assert exc.value.reason == codec.MALFORMED
    with pytest.raises(MalformedPacket) as exc:
        Reader(bytes.fromhex("06210001210001")).properties()
    assert exc.value.reason == codec.PROTOCOL_ERROR


def test_properties_round_trip() -> None:
    props = {"reason_string": "no", "maximum_qos": 1, "user_property": [("a", "b"), ("a", "c")],
             "maximum_packet_size": 65536, "subscription_identifier": 300, "correlation_data": b"\x00\x01"}  # fmt: skip
    decoded = Reader(encode_properties(props)).properties()
    assert decoded == {**props, "subscription_identifier": [300]}


def test_other_protocol_levels_are_refused() -> None:
    with pytest.raises(packets.UnsupportedVersion):
        packets.decode_connect(bytes.fromhex("00064d514973647003c2003c"))  # MQIsdp 3 (MQTT 3.1)
    with pytest.raises(MalformedPacket):
        packets.decode_connect(bytes.fromhex("00044d51545404c3003c0000"))  # reserved flag


def test_publish_subscribe_and_acks_decode() -> None:
    p = packets.decode(3, 0x02, bytes.fromhex("0003612f6200077b7d"), 4)  # QoS 1, "a/b", id 7, "{}"
    assert (p.topic, p.qos, p.packet_id, p.payload) == ("a/b", 1, 7, b"{}")
    p5 = packets.decode(3, 0x00, bytes.fromhex("0001610201017878"), 5)  # payload format prop
    assert (p5.topic, p5.qos, p5.properties, p5.payload) == ("a", 0, {"payload_format_indicator": 1}, b"xx")
    with pytest.raises(MalformedPacket) as exc:
        packets.decode(3, 0x04, bytes.fromhex("0001610001"), 5)  # QoS 2
    assert exc.value.reason == codec.QOS_NOT_SUPPORTED
    s = packets.decode(8, 0x02, bytes.fromhex("000a000003612f2301"), 5)
    assert (s.packet_id, s.filters) == (10, [("a/#", 1)])
    with pytest.raises(MalformedPacket):
        packets.decode(8, 0x00, bytes.fromhex("000a0003612f2301"), 4)  # reserved flags
    u = packets.decode(10, 0x02, bytes.fromhex("000b0003612f23"), 4)
    assert (u.packet_id, u.filters) == (11, ["a/#"])
    assert packets.decode(4, 0, bytes.fromhex("00051000"), 5) == codec.Ack(5, 0x10)
    assert packets.decode(4, 0, bytes.fromhex("0005"), 4) == codec.Ack(5, 0)
    assert packets.decode(12, 0, b"", 5) == codec.Ping()
    assert packets.decode(14, 0, bytes.fromhex("04"), 5) == codec.Disconnect(4)
    with pytest.raises(MalformedPacket) as exc:
        packets.decode(1, 0, V311_CONNECT, 4)
    assert exc.value.reason == codec.PROTOCOL_ERROR
    with pytest.raises(MalformedPacket):
        packets.decode(3, 0x02, bytes.fromhex("0003612f"), 4)  # cut short


def test_the_gateways_packets() -> None:
    assert packets.connack(4, 5) == bytes.fromhex("20020005")
    assert packets.connack(5, 0x87) == bytes.fromhex("2003008700")
    assert packets.connack(5, 0, props={"maximum_qos": 1}) == bytes.fromhex("20050000022401")
    assert packets.publish(4, "a/b", b"{}", 1, 7) == bytes.fromhex("32090003612f6200077b7d")
    assert packets.publish(5, "a", b"x", 0) == bytes.fromhex("30050001610078")
    assert packets.puback(4, 9) == bytes.fromhex("40020009")
    assert packets.puback(5, 9, 0x87) == bytes.fromhex("4003000987")
    assert packets.suback(4, 1, [1, 0x80]) == bytes.fromhex("900400010180")
    assert packets.suback(5, 1, [0x87]) == bytes.fromhex("900400010087")
    assert packets.unsuback(4, 2, [0]) == bytes.fromhex("b0020002")  # 3.1.1: no codes
    assert packets.unsuback(5, 2, [0, 0x11]) == bytes.fromhex("b0050002000011")
    assert packets.pingresp() == bytes.fromhex("d000")
    assert packets.disconnect(0x98) == bytes.fromhex("e0029800")


async def test_read_packet_and_the_size_limit() -> None:
    reader = asyncio.StreamReader()
    reader.feed_data(bytes.fromhex("c00030050001610078"))
    assert await codec.read_packet(reader, 100) == (12, 0, b"")
    assert await codec.read_packet(reader, 100) == (3, 0, bytes.fromhex("0001610078"))
    reader.feed_data(bytes.fromhex("30ff01"))
    with pytest.raises(MalformedPacket) as exc:
        await codec.read_packet(reader, 100)
    assert exc.value.reason == codec.PACKET_TOO_LARGE


def test_topics() -> None:
    t = "acme:dev-1"
    assert may_subscribe(t, f"$aws/things/{t}/jobs/#")
    assert may_subscribe(t, f"$aws/things/{t}/jobs/+/get/accepted")
    for bad in [
        "$aws/#",
        "#",
        "$aws/things/+/jobs/#",
        f"$aws/things/{t}/jobs/",
        f"$aws/things/{t}/jobs/a#",
        f"$aws/things/{t}/shadow/get",
        "$aws/things/acme:dev-10/jobs/#",
        f"$aws/things/{t}/jobs/#/x",
    ]:
        assert not may_subscribe(t, bad), bad
    assert may_publish(t, f"$aws/things/{t}/jobs/get")
    assert not may_publish(t, f"$aws/things/{t}/jobs/+/get")
    assert not may_publish(t, "$aws/things/acme:dev-10/jobs/get")
    assert matches("a/+/c", "a/b/c") and matches("a/#", "a") and matches("a/#", "a/b/c")
    assert not matches("+/b", "$x/b") and not matches("#", "$aws/x") and not matches("a/+", "a/b/c")
    p = f"$aws/things/{t}/jobs/"
    assert parse_request(t, p + "get").kind == "get"
    assert parse_request(t, p + "start-next").kind == "start-next"
    r = parse_request(t, p + "job-1/get")
    assert (r.kind, r.job_id, r.reply_base) == ("describe", "job-1", p + "job-1/get")
    assert parse_request(t, p + "$next/get").job_id == "$next"
    assert parse_request(t, p + "job-1/update").kind == "update"
    assert parse_request(t, p + "$next/update").kind == "invalid"
    assert parse_request(t, p + "nope").kind == "invalid"
    assert parse_request(t, p + "a/b/c").kind == "invalid"
    assert parse_request(t, p + "get/accepted") is None and parse_request(t, p + "notify-next") is None
