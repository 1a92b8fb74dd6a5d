"""A device driven by the official AWS IoT Device SDK (awsiotsdk, unmodified), on plain TCP with username
and password, MQTT 5 (mqtt5.Client) or 3.1.1 (mqtt.Connection), with IotJobsClientV2 on top. The SDK
completes concurrent.futures on its own threads: everything here is awaited with asyncio.wrap_future, so
an in-process gateway in the same event loop keeps running."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from dataclasses import dataclass, field
from typing import Any

from awscrt import mqtt, mqtt5, mqtt_request_response
from awsiot import ServiceStreamOptions, V2ServiceException, iotjobs


@dataclass
class Events:
    """What the device's streams received (from the SDK's threads)."""

    next_changed: list[iotjobs.NextJobExecutionChangedEvent] = field(default_factory=list)
    changed: list[iotjobs.JobExecutionsChangedEvent] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class AwsDevice:
    def __init__(self, host: str, port: int, thing: str, token: str, *, v5: bool = True,
                 disable_metrics: bool = False, timeout: float = 10.0) -> None:  # fmt: skip
        self.thing = thing
        self.v5 = v5
        self.events = Events()
        self.connected = threading.Event()
        self.stopped = threading.Event()
        self.connack: Any = None
        self.disconnects: list[Any] = []
        self._connect_failure: Any = None
        self.client: Any
        if v5:
            self.client = mqtt5.Client(
                mqtt5.ClientOptions(
                    host_name=host,
                    port=port,
                    connect_options=mqtt5.ConnectPacket(
                        client_id=thing, username=thing, password=token.encode(), keep_alive_interval_sec=30
                    ),
                    disable_metrics=disable_metrics,
                    retry_jitter_mode=mqtt5.ExponentialBackoffJitterMode.NONE,
                    min_reconnect_delay_ms=200,
                    max_reconnect_delay_ms=1000,
                    on_lifecycle_event_connection_success_fn=self._v5_success,
                    on_lifecycle_event_connection_failure_fn=self._v5_failure,
                    on_lifecycle_event_disconnection_fn=lambda e: self.disconnects.append(e),
                    on_lifecycle_event_stopped_fn=lambda e: self.stopped.set(),
                )
            )
        else:
            self.client = mqtt.Connection(
                client=mqtt.Client(None, None),
                host_name=host,
                port=port,
                client_id=thing,
                username=thing,
                password=token,
                disable_metrics=disable_metrics,
                keep_alive_secs=30,
                reconnect_min_timeout_secs=1,
                reconnect_max_timeout_secs=2,
                on_connection_interrupted=lambda **kw: self.disconnects.append(kw.get("error")),
                on_connection_resumed=lambda **kw: self.connected.set(),
            )
        self.jobs = iotjobs.IotJobsClientV2(
            self.client,
            mqtt_request_response.ClientOptions(
                max_request_response_subscriptions=6,
                max_streaming_subscriptions=2,
                operation_timeout_in_seconds=int(timeout),
            ),
        )

    def _v5_success(self, event: Any) -> None:
        self.connack = event.connack_packet
        self.connected.set()

    def _v5_failure(self, event: Any) -> None:
        self._connect_failure = event

    async def connect(self, timeout: float = 10.0) -> None:
        if self.v5:
            self.client.start()
            ok = await asyncio.to_thread(self.connected.wait, timeout)
            assert ok, f"{self.thing}: no CONNACK success ({self._connect_failure!r})"
        else:
            await asyncio.wait_for(asyncio.wrap_future(self.client.connect()), timeout)
            self.connected.set()

    async def connect_refused(self, timeout: float = 10.0) -> Any:
        """Connects expecting a refusal: the CONNACK (MQTT 5) or the error (3.1.1)."""
        if self.v5:
            self.client.start()
            for _ in range(int(timeout * 20)):
                if self._connect_failure is not None:
                    failure = self._connect_failure
                    self.client.stop()
                    return failure.connack_packet
                await asyncio.sleep(0.05)
            raise AssertionError("the gateway did not refuse the connection")
        try:
            await asyncio.wait_for(asyncio.wrap_future(self.client.connect()), timeout)
        except Exception as exc:  # awscrt.exceptions.AwsCrtError
            return exc
        raise AssertionError("the gateway accepted the connection")

    async def close(self) -> None:
        if self.v5:
            self.client.stop()
            await asyncio.to_thread(self.stopped.wait, 10)
        else:
            try:
                await asyncio.wait_for(asyncio.wrap_future(self.client.disconnect()), 10)
            except Exception:  # noqa: S110 - already disconnected
                pass

    async def call(self, future: concurrent.futures.Future[Any]) -> Any:
        return await asyncio.wrap_future(future)

    async def rejected(self, future: concurrent.futures.Future[Any]) -> iotjobs.V2ErrorResponse:
        """The rejection's modeled error (code, message, executionState), for a call that must be rejected."""
        try:
            result = await asyncio.wrap_future(future)
        except V2ServiceException as exc:
            assert exc.modeled_error is not None, (
                f"not a modeled rejection: {exc.message} {exc.inner_error!r}"
            )
            return exc.modeled_error
        raise AssertionError(f"accepted: {result}")

    async def get_pending(self) -> iotjobs.GetPendingJobExecutionsResponse:
        return await self.call(
            self.jobs.get_pending_job_executions(
                iotjobs.GetPendingJobExecutionsRequest(thing_name=self.thing)
            )
        )

    def start_next(self, **kw: Any) -> concurrent.futures.Future[Any]:
        return self.jobs.start_next_pending_job_execution(
            iotjobs.StartNextPendingJobExecutionRequest(thing_name=self.thing, **kw)
        )

    def describe(self, job_id: str, **kw: Any) -> concurrent.futures.Future[Any]:
        return self.jobs.describe_job_execution(
            iotjobs.DescribeJobExecutionRequest(thing_name=self.thing, job_id=job_id, **kw)
        )

    def update(self, job_id: str, status: str, **kw: Any) -> concurrent.futures.Future[Any]:
        return self.jobs.update_job_execution(
            iotjobs.UpdateJobExecutionRequest(thing_name=self.thing, job_id=job_id, status=status, **kw)
        )

    async def watch(self, timeout: float = 10.0) -> None:
        """Opens the notify-next and notify streams; returns once both subscriptions are established."""
        ready = [threading.Event(), threading.Event()]

        def status(i: int) -> Any:
            def listener(event: Any) -> None:
                if event.type == mqtt_request_response.SubscriptionStatusEventType.SUBSCRIPTION_ESTABLISHED:
                    ready[i].set()

            return listener

        def on_next(event: iotjobs.NextJobExecutionChangedEvent) -> None:
            with self.events.lock:
                self.events.next_changed.append(event)

        def on_changed(event: iotjobs.JobExecutionsChangedEvent) -> None:
            with self.events.lock:
                self.events.changed.append(event)

        self._streams = [
            self.jobs.create_next_job_execution_changed_stream(
                iotjobs.NextJobExecutionChangedSubscriptionRequest(thing_name=self.thing),
                ServiceStreamOptions(on_next, status(0)),
            ),
            self.jobs.create_job_executions_changed_stream(
                iotjobs.JobExecutionsChangedSubscriptionRequest(thing_name=self.thing),
                ServiceStreamOptions(on_changed, status(1)),
            ),
        ]
        for stream in self._streams:
            stream.open()
        for event in ready:
            assert await asyncio.to_thread(event.wait, timeout), f"{self.thing}: stream not established"

    async def next_event(self, count: int, timeout: float = 5.0) -> iotjobs.NextJobExecutionChangedEvent:
        """Waits for the count-th notify-next event."""
        for _ in range(int(timeout * 50)):
            with self.events.lock:
                if len(self.events.next_changed) >= count:
                    return self.events.next_changed[count - 1]
            await asyncio.sleep(0.02)
        raise AssertionError(f"{self.thing}: no notify-next #{count} within {timeout} s")
