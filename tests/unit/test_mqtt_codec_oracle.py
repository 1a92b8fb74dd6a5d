"""The gateway's MQTT 5 codec against an independent implementation, `mqtt5` (a sans-I/O codec in Rust,
pinned in the dev extras): what a client library writes, ours decodes to the same fields (properties
included, the ones the gateway skips too); what ours writes, it reads back as the packet we meant."""

from __future__ import annotations

import mqtt5
import pytest

from mqtt_gateway import codec, packets
from mqtt_gateway.gateway import CONNACK_PROPERTIES


def _split(data: bytes) -> tuple[int, int, bytes]:
    """Fixed header off: (type, flags, body)."""
    r = codec.Reader(data[1:])
    length = r.varint()
    body = r.take(length)
    assert not r.left()
    return data[0] >> 4, data[0] & 0x0F, body


def _theirs(data: bytes) -> object:
    packet, n = mqtt5.read(memoryview(data))
    assert n == len(data)
    return packet


def test_their_connect_decodes_with_every_property() -> None:
    raw = mqtt5.ConnectPacket(
        "acme:dev-1",
        username="acme:dev-1?SDK=Python&Platform=linux",
        password=b"token-123",
        clean_start=True,
        keep_alive=1200,
        session_expiry_interval=3600,
        request_problem_info=False,
        request_response_info=True,
        receive_max=100,
        topic_alias_max=8,
        max_packet_size=131072,
        authentication_method=None,
        user_properties=[("k", "v"), ("k", "w")],
        will=mqtt5.Will(
            "$aws/things/acme:dev-1/jobs/x",
            payload=b"bye",
            qos=mqtt5.QoS.AT_LEAST_ONCE,
            message_expiry_interval=60,
            user_properties=[("a", "b")],
        ),
    ).write()
    ptype, flags, body = _split(raw)
    assert (ptype, flags) == (codec.CONNECT, 0)
    c = packets.decode_connect(body)
    assert (c.version, c.client_id, c.username, c.password, c.keep_alive, c.clean_start) == (
        5, "acme:dev-1", "acme:dev-1?SDK=Python&Platform=linux", b"token-123", 1200, True
    )  # fmt: skip
    assert c.will_topic == "$aws/things/acme:dev-1/jobs/x"
    assert c.properties["session_expiry_interval"] == 3600
    assert c.properties["receive_maximum"] == 100
    assert c.properties["topic_alias_maximum"] == 8
    assert c.properties["maximum_packet_size"] == 131072
    assert c.properties["user_property"] == [("k", "v"), ("k", "w")]


def test_their_publish_subscribe_unsubscribe_puback_disconnect_decode() -> None:
    pub = mqtt5.PublishPacket(
        "$aws/things/t/jobs/get", b'{"clientToken":"x"}', qos=mqtt5.QoS.AT_LEAST_ONCE, packet_id=42,
        payload_format_indicator=1, message_expiry_interval=30, content_type="application/json",
        response_topic="r/t", correlation_data=b"\x01\x02", user_properties=[("u", "p")],
    ).write()  # fmt: skip
    p = packets.decode(*_split(pub), codec.MQTT5)
    assert isinstance(p, codec.Publish)
    assert (p.topic, p.payload, p.qos, p.packet_id) == (
        "$aws/things/t/jobs/get",
        b'{"clientToken":"x"}',
        1,
        42,
    )
    assert p.properties == {
        "payload_format_indicator": 1, "message_expiry_interval": 30, "content_type": "application/json",
        "response_topic": "r/t", "correlation_data": b"\x01\x02", "user_property": [("u", "p")],
    }  # fmt: skip
    sub = mqtt5.SubscribePacket(
        7, [mqtt5.TopicFilter("$aws/things/t/jobs/+/get/+", max_qos=mqtt5.QoS.AT_LEAST_ONCE),
            mqtt5.TopicFilter("$aws/things/t/jobs/notify-next", max_qos=mqtt5.QoS.AT_MOST_ONCE, no_local=True)],
        user_properties=[("a", "b")],
    ).write()  # fmt: skip
    s = packets.decode(*_split(sub), codec.MQTT5)
    assert isinstance(s, codec.Subscribe) and s.packet_id == 7
    assert [(f, o & 0x03) for f, o in s.filters] == [("$aws/things/t/jobs/+/get/+", 1),
                                                     ("$aws/things/t/jobs/notify-next", 0)]  # fmt: skip
    assert s.filters[1][1] & 0x04  # no local
    u = packets.decode(*_split(mqtt5.UnsubscribePacket(8, ["a/b", "c/#"]).write()), codec.MQTT5)
    assert u == codec.Unsubscribe(8, ["a/b", "c/#"])
    ack = mqtt5.PubAckPacket(9, reason_code=mqtt5.PubAckReasonCode.NO_MATCHING_SUBSCRIBERS, reason_str="none")
    assert packets.decode(*_split(ack.write()), codec.MQTT5) == codec.Ack(9, 0x10)
    assert packets.decode(*_split(mqtt5.PingReqPacket().write()), codec.MQTT5) == codec.Ping()
    bye = mqtt5.DisconnectPacket(reason_code=mqtt5.DisconnectReasonCode.NORMAL_DISCONNECTION,
                                 reason_str="done").write()  # fmt: skip
    d = packets.decode(*_split(bye), codec.MQTT5)
    assert isinstance(d, codec.Disconnect) and d.reason in (0, 4)


def test_our_packets_read_back_as_meant() -> None:
    c = _theirs(packets.connack(5, 0, False, CONNACK_PROPERTIES))
    assert isinstance(c, mqtt5.ConnAckPacket)
    assert c.reason_code == mqtt5.ConnAckReasonCode.SUCCESS and not c.session_present
    assert c.max_qos == mqtt5.QoS.AT_LEAST_ONCE and not c.retain_available
    assert not c.shared_subscription_available and not c.subscription_id_available
    assert c.wildcard_subscription_available and c.topic_alias_max == 0 and c.max_packet_size == 256 * 1024
    refused = _theirs(packets.connack(5, codec.NOT_AUTHORIZED))
    assert refused.reason_code == mqtt5.ConnAckReasonCode.NOT_AUTHORIZED
    p = _theirs(packets.publish(5, "$aws/things/t/jobs/notify-next", b'{"timestamp":1}', 1, 65535))
    assert isinstance(p, mqtt5.PublishPacket)
    assert (p.topic, p.payload, p.qos, p.packet_id) == (
        "$aws/things/t/jobs/notify-next", b'{"timestamp":1}', mqtt5.QoS.AT_LEAST_ONCE, 65535
    )  # fmt: skip
    q0 = _theirs(packets.publish(5, "a", b"", 0))
    assert q0.qos == mqtt5.QoS.AT_MOST_ONCE and q0.packet_id is None
    assert (
        _theirs(packets.puback(5, 3, codec.NOT_AUTHORIZED)).reason_code
        == mqtt5.PubAckReasonCode.NOT_AUTHORIZED
    )
    assert _theirs(packets.puback(5, 3)).reason_code == mqtt5.PubAckReasonCode.SUCCESS
    s = _theirs(packets.suback(5, 4, [1, 0, codec.NOT_AUTHORIZED, codec.SHARED_SUBS_NOT_SUPPORTED]))
    assert s.packet_id == 4 and list(s.reason_codes) == [
        mqtt5.SubAckReasonCode.GRANTED_QOS_AT_LEAST_ONCE, mqtt5.SubAckReasonCode.GRANTED_QOS_AT_MOST_ONCE,
        mqtt5.SubAckReasonCode.NOT_AUTHORIZED, mqtt5.SubAckReasonCode.SHARED_SUBSCRIPTIONS_NOT_SUPPORTED,
    ]  # fmt: skip
    un = _theirs(packets.unsuback(5, 5, [0, 0x11]))
    assert list(un.reason_codes) == [mqtt5.UnsubAckReasonCode.SUCCESS,
                                     mqtt5.UnsubAckReasonCode.NO_SUBSCRIPTION_EXISTED]  # fmt: skip
    assert isinstance(_theirs(packets.pingresp()), mqtt5.PingRespPacket)
    d = _theirs(packets.disconnect(codec.ADMINISTRATIVE_ACTION, "the provision token was revoked"))
    assert d.reason_code == mqtt5.DisconnectReasonCode.ADMINISTRATIVE_ACTION
    assert d.reason_str == "the provision token was revoked"


@pytest.mark.parametrize("keep", [1, 4, 6, 8, 9, 10])
def test_a_packet_cut_inside_its_fields_is_malformed(keep: int) -> None:
    """Topic (5 bytes), packet id (2), properties (length 1 + content type 4), payload: cut inside any."""
    pub = mqtt5.PublishPacket(
        "a/b", b"xyz", qos=mqtt5.QoS.AT_LEAST_ONCE, packet_id=1, content_type="j"
    ).write()
    ptype, flags, body = _split(pub)
    assert len(body) == 15
    with pytest.raises(codec.MalformedPacket):
        packets.decode(ptype, flags, body[:keep], codec.MQTT5)
