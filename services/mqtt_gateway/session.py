"""One device's MQTT connection after CONNECT: its subscriptions, its requests (processed in arrival order by
one task per connection, queued up to a bound; past it a request gets RequestThrottled), and what the gateway
publishes to it (only on topics it subscribed to, at most QoS 1)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from mqtt_gateway import codec, packets
from mqtt_gateway import payloads as aws
from mqtt_gateway.jobs_api import Device, Revoked
from mqtt_gateway.requests import client_token_of
from mqtt_gateway.topics import matches, may_publish, may_subscribe, parse_request
from shared.observability import metrics

if TYPE_CHECKING:
    from mqtt_gateway.gateway import Gateway

log = logging.getLogger("iotcloud.mqtt.session")

MAX_QUEUED_REQUESTS = 64


@dataclass(eq=False)
class Session:
    gateway: Gateway
    device: Device
    version: int
    writer: asyncio.StreamWriter
    username: str = ""  # as sent (an AWS SDK's carries ?SDK=... metrics)
    subscriptions: dict[str, int] = field(default_factory=dict)
    requests: asyncio.Queue[codec.Publish] = field(default_factory=lambda: asyncio.Queue(MAX_QUEUED_REQUESTS))
    next_id: int = 0
    closed: bool = False
    # what notify / notify-next last told (or, before any, what was pending at CONNECT)
    last_next: tuple[str, int] | None = None
    last_pending: tuple[tuple[str, str, int], ...] = ()

    @property
    def v5(self) -> bool:
        return self.version == codec.MQTT5

    def send(self, data: bytes) -> None:
        if not self.closed and not self.writer.is_closing():
            self.writer.write(data)

    def close(self, reason: int | None = None, why: str | None = None) -> None:
        """Ends the connection; MQTT 5 hears the reason first (3.1.1 has no server DISCONNECT)."""
        if self.closed:
            return
        if reason is not None and self.v5:
            self.send(packets.disconnect(reason, why))
        self.closed = True
        with contextlib.suppress(Exception):
            self.writer.close()

    def deliver(self, topic: str, body: dict[str, Any]) -> bool:
        """Publishes to the device if one of its subscriptions matches (QoS: the highest granted)."""
        qos = max((q for f, q in self.subscriptions.items() if matches(f, topic)), default=-1)
        if qos < 0:
            return False
        packet_id = None
        if qos:
            self.next_id = self.next_id % 65535 + 1
            packet_id = self.next_id
        self.send(packets.publish(self.version, topic, orjson.dumps(body), qos, packet_id))
        return True

    def on_subscribe(self, packet: codec.Subscribe) -> None:
        codes = []
        thing = self.device.thing
        for topic_filter, options in packet.filters:
            if topic_filter.startswith("$share/"):
                codes.append(codec.SHARED_SUBS_NOT_SUPPORTED if self.v5 else codec.V3_SUBACK_FAILURE)
            elif not may_subscribe(thing, topic_filter):
                codes.append(codec.NOT_AUTHORIZED if self.v5 else codec.V3_SUBACK_FAILURE)
            else:
                granted = min(options & 0x03, 1)
                self.subscriptions[topic_filter] = granted
                codes.append(granted)
        self.send(packets.suback(self.version, packet.packet_id, codes))

    def on_unsubscribe(self, packet: codec.Unsubscribe) -> None:
        codes = [0x00 if self.subscriptions.pop(f, None) is not None else 0x11 for f in packet.filters]
        self.send(packets.unsuback(self.version, packet.packet_id, codes))

    def on_publish(self, packet: codec.Publish) -> None:
        """A request: acknowledged at once (QoS 1), answered on its reply topic once processed. A topic
        outside the device's namespace is dropped (MQTT 5 PUBACK 0x87; 3.1.1 cannot say so)."""
        allowed = may_publish(self.device.thing, packet.topic)
        if packet.qos == 1 and packet.packet_id is not None:
            reason = codec.SUCCESS if allowed else codec.NOT_AUTHORIZED
            self.send(packets.puback(self.version, packet.packet_id, reason))
        if not allowed:
            log.info("%s published outside its namespace: %r dropped", self.device.thing, packet.topic)
            return
        request = parse_request(self.device.thing, packet.topic)
        if request is None:
            return
        try:
            self.requests.put_nowait(packet)
        except asyncio.QueueFull:
            token = client_token_of(packet.payload)
            body = aws.rejected("RequestThrottled", "too many requests in flight on this connection", token)
            self.deliver(request.reply_base + "/rejected", body)
            metrics.MQTT_REQUESTS.labels(request.kind, "RequestThrottled").inc()

    async def process_requests(self) -> None:
        """Requests in arrival order; a revoked token ends the connection. A request that fails in a way
        nobody foresaw is answered InternalError (and logged), and the next one is processed."""
        api = self.gateway.api
        while True:
            packet = await self.requests.get()
            request = parse_request(self.device.thing, packet.topic)
            assert request is not None
            try:
                topic, body = await api.handle(self.device, request, packet.payload)
            except Revoked:
                self.close(codec.NOT_AUTHORIZED, "the provision token was revoked or rotated")
                return
            except Exception:
                log.exception("%s: request on %s failed", self.device.thing, packet.topic)
                token = client_token_of(packet.payload)
                topic = request.reply_base + "/rejected"
                body = aws.rejected("InternalError", "the request failed; retry", token)
            self.deliver(topic, body)
            metrics.MQTT_REQUESTS.labels(request.kind, body.get("code", "accepted")).inc()
            if request.kind in ("update", "start-next") and topic.endswith("/accepted"):
                self.gateway.wake(self)  # its next execution may have changed: notify-next
