"""The fan-out hub: one per gateway process, shared by every connected client.

Sources publish into it; it numbers each event ``<epoch>-<seq>`` (``epoch`` names this hub's
lifetime, so ids from before a restart are recognised as foreign), keeps the last
``buffer_size`` events in a ring for resuming, keeps the current agent states and queue
figures for snapshots, and hands each event to every client that may see it.

Publishing never waits for a client: each client has its own pending list, and a client that
lets more than ``max_pending`` events pile up is dropped on the spot (its stream ends with a
``closing`` event and it may reconnect to resume). Pure asyncio, no I/O.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from prometheus_client import Counter, Gauge

from services.gateway.stream.sse import frame
from services.gateway.stream.visibility import Audience, Kind, may_see
from shared.auth import Principal

log = structlog.get_logger("stream")

CLIENTS = Gauge("callpulse_stream_clients", "Clients connected to the live stream")
DROPPED = Counter("callpulse_stream_dropped_total", "Stream clients dropped for being too slow")

SNAPSHOT = "snapshot"
RESET = "reset"
CLOSING = "closing"


@dataclass(frozen=True, slots=True)
class Event:
    kind: str
    data: Mapping[str, Any]
    frame: bytes
    seq: int = 0
    """Position in the hub's sequence; 0 for a client's own snapshot, reset or closing event."""
    audience: Audience | None = None


def control(kind: str, data: Mapping[str, Any], event_id: str | None = None) -> Event:
    return Event(kind=kind, data=data, frame=frame(kind, data, event_id))


class Subscription:
    """One client's pending events: what it is owed on connecting (replay or snapshot), then
    live events. The writer drains it with :meth:`wait`."""

    def __init__(self, principal: Principal, max_pending: int) -> None:
        self.principal = principal
        self._max_pending = max_pending
        self._owed: list[Event] = []
        self._live: deque[Event] = deque()
        self._wakeup = asyncio.Event()
        self.closed = False
        """Nothing more will come; the stream ends once what is pending is written."""

    def owe(self, events: Iterable[Event]) -> None:
        self._owed.extend(events)
        self._wakeup.set()

    def offer(self, event: Event) -> bool:
        """Queue a live event; False when the client already has too many pending."""
        if len(self._live) >= self._max_pending:
            return False
        self._live.append(event)
        self._wakeup.set()
        return True

    def close(self, final: Event, *, discard_pending: bool) -> None:
        if discard_pending:
            self._owed.clear()
            self._live.clear()
        self._live.append(final)
        self.closed = True
        self._wakeup.set()

    @property
    def pending(self) -> int:
        return len(self._owed) + len(self._live)

    async def wait(self, timeout_s: float) -> list[Event] | None:
        """Everything pending (possibly ``[]`` when ``timeout_s`` passed quietly), or ``None``
        once the subscription is closed and drained."""
        if not self.pending and not self.closed:
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout_s)
            except TimeoutError:
                return []
        if not self.pending:
            return None
        events = [*self._owed, *self._live]
        self._owed.clear()
        self._live.clear()
        return events


class Hub:
    def __init__(self, *, buffer_size: int, max_pending: int) -> None:
        self.epoch = secrets.token_hex(6)
        self._seq = 0
        self._ring: deque[Event] = deque(maxlen=buffer_size)
        self._max_pending = max_pending
        self._subscriptions: set[Subscription] = set()
        self._current: dict[Kind, dict[str, tuple[Mapping[str, Any], Audience]]] = {
            Kind.AGENT_STATE: {},
            Kind.QUEUE_SNAPSHOT: {},
        }
        self.as_of: str | None = None
        """When the current states were last read (RFC 3339); ``None`` until the first read."""
        self.watched = asyncio.Event()
        """Set while at least one client is connected (the metrics poller idles otherwise)."""
        self.closed = False

    @property
    def position(self) -> str:
        """The id of the latest event: a client that saw it has missed nothing."""
        return f"{self.epoch}-{self._seq}"

    @property
    def subscribers(self) -> int:
        return len(self._subscriptions)

    def set_current(
        self, kind: Kind, key: str, data: Mapping[str, Any], audience: Audience
    ) -> None:
        """Remember the latest state of ``key`` for snapshots (without publishing it)."""
        self._current[kind][key] = (data, audience)

    def forget(self, kind: Kind, key: str) -> None:
        self._current[kind].pop(key, None)

    def publish(self, kind: Kind, data: Mapping[str, Any], audience: Audience) -> Event:
        self._seq += 1
        event_id = f"{self.epoch}-{self._seq}"
        event = Event(kind, data, frame(kind, data, event_id), self._seq, audience)
        self._ring.append(event)
        for subscription in list(self._subscriptions):
            if may_see(subscription.principal, kind, audience) and not subscription.offer(event):
                self._drop(subscription)
        return event

    def subscribe(self, principal: Principal, last_event_id: str | None = None) -> Subscription:
        """A new client. Without ``last_event_id`` it is owed a snapshot; with one it can be
        resumed from, the events it missed and may see; otherwise a ``reset`` and a snapshot."""
        subscription = Subscription(principal, self._max_pending)
        if self.closed:
            subscription.close(
                control(CLOSING, {"reason": "server_stopping"}), discard_pending=True
            )
            return subscription
        if last_event_id is None:
            subscription.owe([self.snapshot_for(principal)])
        else:
            missed = self._missed_since(last_event_id)
            if isinstance(missed, str):
                subscription.owe([control(RESET, {"reason": missed}), self.snapshot_for(principal)])
            else:
                subscription.owe(e for e in missed if may_see(principal, Kind(e.kind), e.audience))
        self._subscriptions.add(subscription)
        CLIENTS.inc()
        self.watched.set()
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.discard(subscription)
            CLIENTS.dec()
        if not self._subscriptions:
            self.watched.clear()

    def close(self) -> None:
        """The server is stopping: every stream ends after what it has pending."""
        self.closed = True
        for subscription in list(self._subscriptions):
            subscription.close(
                control(CLOSING, {"reason": "server_stopping"}), discard_pending=False
            )
            self.unsubscribe(subscription)

    def snapshot_for(self, principal: Principal) -> Event:
        """The current states ``principal`` may see, with the id of the latest event."""

        def visible(kind: Kind) -> list[Mapping[str, Any]]:
            return [
                data
                for _, (data, audience) in sorted(self._current[kind].items())
                if may_see(principal, kind, audience)
            ]

        data = {
            "as_of": self.as_of,
            "agents": visible(Kind.AGENT_STATE),
            "queues": visible(Kind.QUEUE_SNAPSHOT),
        }
        return control(SNAPSHOT, data, self.position)

    def _missed_since(self, last_event_id: str) -> list[Event] | str:
        """The events after ``last_event_id``, or why the client must start over."""
        epoch, _, seq_text = last_event_id.strip().rpartition("-")
        if not epoch or not seq_text.isdigit():
            return "unrecognised_id"
        if epoch != self.epoch:
            return "unknown_epoch"  # a restarted gateway, or another replica
        seq = int(seq_text)
        if seq > self._seq:
            return "unrecognised_id"
        oldest = self._ring[0].seq if self._ring else self._seq + 1
        if seq < oldest - 1:
            return "too_far_behind"
        return list(itertools.islice(self._ring, seq - oldest + 1, None))

    def _drop(self, subscription: Subscription) -> None:
        subscription.close(control(CLOSING, {"reason": "too_slow"}), discard_pending=True)
        self.unsubscribe(subscription)
        DROPPED.inc()
        log.warning("stream client dropped", principal_id=subscription.principal.id)
