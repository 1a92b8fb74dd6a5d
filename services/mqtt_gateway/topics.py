"""The `$aws/things/{thing}/jobs/` namespace: which requests a topic names, which filters and topics a
device may use (only its own thing's), and MQTT topic matching."""

from __future__ import annotations

import re
from dataclasses import dataclass

JOB_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # AWS's jobId, and ours (shared/web/validation.py)
REPLY_SUFFIXES = ("/accepted", "/rejected")
EVENT_TOPICS = ("notify", "notify-next")


def prefix(thing: str) -> str:
    return f"$aws/things/{thing}/jobs/"


@dataclass(frozen=True, slots=True)
class Request:
    kind: str  # get | start-next | describe | update | invalid
    job_id: str | None  # describe/update: the job id (or $next for describe)
    reply_base: str  # the topic the answer goes to, + /accepted or /rejected


def parse_request(thing: str, topic: str) -> Request | None:
    """The request a device's PUBLISH makes, or None for a topic that is no request (a reply or event topic
    the device published to itself: ignored, as AWS ignores them). The caller has checked the prefix."""
    rest = topic[len(prefix(thing)) :]
    if rest.endswith(REPLY_SUFFIXES) or rest in EVENT_TOPICS:
        return None
    if rest in ("get", "start-next"):
        return Request(rest, None, topic)
    parts = rest.split("/")
    if len(parts) == 2 and parts[1] == "get" and (parts[0] == "$next" or parts[0]):
        return Request("describe", parts[0], topic)
    if len(parts) == 2 and parts[1] == "update" and parts[0] and parts[0] != "$next":
        return Request("update", parts[0], topic)
    return Request("invalid", None, topic)


def may_publish(thing: str, topic: str) -> bool:
    return topic.startswith(prefix(thing)) and not any(c in topic for c in "+#")


def valid_filter(topic_filter: str) -> bool:
    if not topic_filter or "\x00" in topic_filter:
        return False
    levels = topic_filter.split("/")
    for i, level in enumerate(levels):
        if "#" in level and (level != "#" or i != len(levels) - 1):
            return False
        if "+" in level and level != "+":
            return False
    return True


def may_subscribe(thing: str, topic_filter: str) -> bool:
    """Only filters inside the thing's own jobs namespace: `$aws/things/+/...`, `$aws/#` and another thing's
    topics are refused (the SUBACK says so), whatever tenant the other thing belongs to."""
    return (
        topic_filter.startswith(prefix(thing))
        and len(topic_filter) > len(prefix(thing))
        and valid_filter(topic_filter)
    )


def matches(topic_filter: str, topic: str) -> bool:
    """MQTT topic matching ('+' one level, '#' the rest; a filter starting with a wildcard does not match a
    topic starting with '$')."""
    f_levels = topic_filter.split("/")
    t_levels = topic.split("/")
    if topic.startswith("$") and f_levels[0] in ("+", "#"):
        return False
    for i, level in enumerate(f_levels):
        if level == "#":
            return True
        if i >= len(t_levels) or (level != "+" and level != t_levels[i]):
            return False
    return len(f_levels) == len(t_levels)
