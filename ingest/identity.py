"""Who sent an MQTT message: the device the broker authenticated, read from the topic level that the
broker's ACL binds to the username (``%u``). A reading may only be for that device, whatever its
payload says (a generic JSON naming ``"meter": "dev2"`` on dev1's topic is refused)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ingest.payloads import DEFAULT_TABLE

#: The ``pattern write`` lines of deploy/mosquitto/acl that let a device publish, as the format table
#: declares them for the default topic prefixes (a test checks that the ACL says the same). ``%u`` is
#: the device's username, one topic level. An installation with other prefixes passes its table's.
DEVICE_WRITE_PATTERNS: tuple[str, ...] = DEFAULT_TABLE.write_patterns

#: A reading whose device is not the one the broker authenticated for its topic.
KEY_FOREIGN_DEVICE = "mqtt.foreign_device"
#: A topic no device may publish to under the ACL, so no authenticated sender can be named.
KEY_NO_SENDER = "mqtt.no_sender"


@dataclass(frozen=True, slots=True)
class Sender:
    """One way the ACL lets a device publish to a topic.

    username: the device's broker username (the topic level at ``%u``)
    prefix: the topic's levels up to and including that one (``vzlogger/dev1``, ``dev1``): device ids
        the parsers derive from the topic are the username itself, this prefix, or longer below it
    """

    username: str
    prefix: str

    def owns(self, device: str) -> bool:
        return device in (self.username, self.prefix) or device.startswith(self.prefix + "/")


def _match(pattern: str, levels: list[str]) -> Sender | None:
    parts = pattern.split("/")
    username: str | None = None
    at = -1
    for i, part in enumerate(parts):
        if part == "#":
            break  # matches the rest, also nothing (MQTT: "a/#" matches "a")
        if i >= len(levels):
            return None
        if part == "%u":
            if not levels[i]:
                return None
            username, at = levels[i], i
        elif part != "+" and part != levels[i]:
            return None
    else:
        if len(parts) != len(levels):
            return None
    if username is None:
        return None
    return Sender(username, "/".join(levels[: at + 1]))


def family_words(patterns: tuple[str, ...] = DEVICE_WRITE_PATTERNS) -> frozenset[str]:
    """Names no device username may have: a fixed level of one pattern where another has ``%u``
    (user ``status`` could publish ``emon/status/x`` as if it were user ``emon``'s topic)."""
    split = [pattern.split("/") for pattern in patterns]
    at = {levels.index("%u") for levels in split if "%u" in levels}
    return frozenset(
        level
        for levels in split
        for i, level in enumerate(levels)
        if i in at and level not in ("%u", "+", "#")
    )


@lru_cache(maxsize=8192)
def senders(topic: str, patterns: tuple[str, ...] = DEVICE_WRITE_PATTERNS) -> tuple[Sender, ...]:
    """Every (username, prefix) the ACL ``patterns`` would let publish to ``topic``; more than one
    means the topic is ambiguous (user ``emon`` may write ``emon/status/x`` by ``%u/status/#``, user
    ``status`` by ``emon/%u/#``), and a reading must then belong to each of them."""
    levels = topic.split("/")
    found = (_match(pattern, levels) for pattern in patterns)
    return tuple(dict.fromkeys(s for s in found if s is not None))


def sender_problem(
    topic: str,
    devices: set[str],
    not_devices: frozenset[str] = frozenset(),
    patterns: tuple[str, ...] = DEVICE_WRITE_PATTERNS,
) -> tuple[str, str] | None:
    """(key, reason) when a reading of ``devices`` cannot have come from the device the broker
    authenticated for ``topic``; None when every device is the sender's own.

    not_devices: usernames that are never devices (the ingest worker's own)
    patterns: the broker ACL's ``pattern write`` lines (the installation's format table's)
    """
    found = senders(topic, patterns)
    if not found:
        return KEY_NO_SENDER, (
            f"no device may publish to topic {topic[:120]!r} under the broker's ACL, so the sender is unknown"
        )
    names = sorted({s.username for s in found})
    for sender in found:
        if sender.username in not_devices:
            return KEY_FOREIGN_DEVICE, f"user {sender.username!r} is not a device and cannot publish readings"
        for device in sorted(devices):
            if not sender.owns(device):
                who = names[0] if len(names) == 1 else " or ".join(repr(n) for n in names)
                return KEY_FOREIGN_DEVICE, (
                    f"the message names device {device[:80]!r}, but the broker authenticated "
                    f"{who if len(names) > 1 else repr(who)} for topic {topic[:120]!r}: a device may only "
                    "send its own readings"
                )
    return None
