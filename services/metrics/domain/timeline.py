"""The agent state machine: CTI events in, state segments and contacts out. Pure, no I/O.

Rules (the contract of issue 3 §1; the README's metrics section repeats them):

* States: ``logged_out``, ``available``, ``aux`` (with a reason), ``talk``, ``hold``, ``acw``.
* ``logged_in`` makes the agent available, unless its data names a ``state``/``reason``.
  Any agent event while logged out implicitly logs the agent in at its time (feeds often start
  mid-session). Surveys, QA evaluations, complaints and tags never change the state.
* ``answered`` → talk; ``held`` / ``resumed`` toggle hold; ``ended`` → ACW; ``wrapup_ended``
  → the contact is handled and the agent becomes available — unless a ``state_changed``
  arrived during the call or its ACW: that state then applies at ``wrapup_ended`` (it never
  interrupts the contact).
* ``answered`` during ACW ends the previous contact (handled) at that moment. ``logged_out``
  closes any open talk/hold/ACW at its time; that contact counts as handled then.
* Events of one agent with the same timestamp apply in lifecycle order: logged_in,
  state_changed, answered, held, resumed, ended, wrapup_ended, logged_out (then by event id,
  so the order is total and replay is deterministic).

Times are kept as integer microseconds since the epoch so sums are exact: every segment is a
half-open span ``[start, end)`` and a timeline's spans never overlap.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from shared.events import CloudEvent, EventType

LOGGED_OUT, AVAILABLE, AUX, TALK, HOLD, ACW = (
    "logged_out",
    "available",
    "aux",
    "talk",
    "hold",
    "acw",
)
ON_CONTACT = frozenset({TALK, HOLD, ACW})

LIFECYCLE_ORDER = {
    EventType.AGENT_LOGGED_IN.value: 0,
    EventType.AGENT_STATE_CHANGED.value: 1,
    EventType.CALL_ANSWERED.value: 2,
    EventType.CALL_HELD.value: 3,
    EventType.CALL_RESUMED.value: 4,
    EventType.CALL_ENDED.value: 5,
    EventType.CALL_WRAPUP_ENDED.value: 6,
    EventType.AGENT_LOGGED_OUT.value: 7,
}
STATE_EVENTS = frozenset(LIFECYCLE_ORDER)


def to_us(moment: datetime) -> int:
    """Microseconds since the epoch, exact (no float on the way)."""
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(us: int) -> datetime:
    seconds, micros = divmod(us, 1_000_000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=micros)


def sort_key(event: CloudEvent) -> tuple[int, int, str]:
    return (to_us(event.time), LIFECYCLE_ORDER.get(event.type, 8), event.id)


@dataclass(frozen=True, slots=True)
class Segment:
    """The agent was in ``state`` (``reason`` for aux) during ``[start, end)``."""

    start: int
    end: int
    state: str
    reason: str | None = None
    call_id: str | None = None


@dataclass(frozen=True, slots=True)
class Contact:
    """A handled contact, counted at ``handled_at``; its talk, hold and ACW wherever they fell."""

    call_id: str
    answered_at: int | None
    handled_at: int
    talk_us: int
    hold_us: int
    acw_us: int

    @property
    def handle_us(self) -> int:
        return self.talk_us + self.hold_us + self.acw_us


@dataclass(slots=True)
class OpenContact:
    call_id: str
    answered_at: int | None
    talk_us: int = 0
    hold_us: int = 0
    acw_us: int = 0


@dataclass(slots=True)
class AgentState:
    """Where one agent stands after the events applied so far (a resumable snapshot)."""

    state: str = LOGGED_OUT
    reason: str | None = None
    since: int | None = None
    contact: OpenContact | None = None
    after_contact: tuple[str, str | None] | None = None
    last_closed_call: str | None = None
    last_event: tuple[int, int, str] | None = None

    @property
    def call_id(self) -> str | None:
        return self.contact.call_id if self.contact else None


@dataclass
class Timeline:
    """What replaying an agent's events produced up to ``until``."""

    segments: list[Segment] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    answers: list[tuple[int, str]] = field(default_factory=list)
    state: AgentState = field(default_factory=AgentState)


class AgentMachine:
    """Applies one agent's events in ``sort_key`` order, emitting closed segments and contacts."""

    def __init__(self, state: AgentState | None = None) -> None:
        self.state = state if state is not None else AgentState()
        self.segments: list[Segment] = []
        self.contacts: list[Contact] = []
        self.answers: list[tuple[int, str]] = []

    def apply(self, event: CloudEvent, key: tuple[int, int, str] | None = None) -> None:
        """Apply the next event; ``key`` is its :func:`sort_key` when the caller has it."""
        if event.type not in STATE_EVENTS:
            return
        key = key or sort_key(event)
        if self.state.last_event is not None and key <= self.state.last_event:
            raise OutOfOrder(event)
        self.state.last_event = key
        at = key[0]
        data = event.data
        handler = getattr(self, "_" + event.type.rsplit(".", 1)[1])
        handler(at, data)

    # -- transitions -------------------------------------------------------------------------

    def _logged_in(self, at: int, data) -> None:
        if self.state.state != LOGGED_OUT:
            return
        if getattr(data, "state", None) == "aux":
            self._enter(at, AUX, getattr(data, "reason", None) or "unspecified")
        else:
            self._enter(at, AVAILABLE)

    def _logged_out(self, at: int, data) -> None:
        if self.state.state == LOGGED_OUT:
            return
        if self.state.contact is not None:
            self._close_contact(at)
        self._enter(at, LOGGED_OUT)
        self.state.after_contact = None

    def _state_changed(self, at: int, data) -> None:
        target = (AUX, data.reason) if data.state == "aux" else (AVAILABLE, None)
        if self.state.state in ON_CONTACT:
            self.state.after_contact = target
            return
        self._enter(at, *target)

    def _answered(self, at: int, data) -> None:
        contact = self.state.contact
        if contact is not None and contact.call_id == data.call_id:
            return  # a second answer of the call already on the line
        if contact is not None:
            self._close_contact(at)
        self.state.contact = OpenContact(call_id=data.call_id, answered_at=at)
        self.answers.append((at, data.call_id))
        self._enter(at, TALK)

    def _held(self, at: int, data) -> None:
        if self._join_call(at, data.call_id, HOLD):
            return
        if self.state.state == TALK:
            self._enter(at, HOLD)

    def _resumed(self, at: int, data) -> None:
        if self._join_call(at, data.call_id, TALK):
            return
        if self.state.state == HOLD:
            self._enter(at, TALK)

    def _ended(self, at: int, data) -> None:
        if self._join_call(at, data.call_id, ACW):
            return
        if self.state.state in (TALK, HOLD):
            self._enter(at, ACW)

    def _wrapup_ended(self, at: int, data) -> None:
        contact = self.state.contact
        if contact is None or contact.call_id != data.call_id:
            if self.state.state == LOGGED_OUT:
                self._enter(at, AVAILABLE)  # implicit login: the feed started after the call
            return
        self._close_contact(at)
        target = self.state.after_contact or (AVAILABLE, None)
        self.state.after_contact = None
        self._enter(at, *target)

    # -- helpers -----------------------------------------------------------------------------

    def _join_call(self, at: int, call_id: str, state: str) -> bool:
        """An event of a call the machine has not seen answered (the feed started mid-call).

        Returns True when it started a contact in ``state``; False when the event belongs to
        the contact already open (the caller then applies the normal transition).
        """
        contact = self.state.contact
        if contact is not None and contact.call_id == call_id:
            return False
        if contact is not None or call_id == self.state.last_closed_call:
            return True  # another call's or a finished call's event: the agent does not move
        self.state.contact = OpenContact(call_id=call_id, answered_at=None)
        self._enter(at, state)
        return True

    def _close_contact(self, at: int) -> None:
        self._cut(at)
        contact = self.state.contact
        assert contact is not None
        self.contacts.append(
            Contact(
                contact.call_id,
                contact.answered_at,
                at,
                contact.talk_us,
                contact.hold_us,
                contact.acw_us,
            )
        )
        self.state.contact = None
        self.state.last_closed_call = contact.call_id

    def _enter(self, at: int, state: str, reason: str | None = None) -> None:
        self._cut(at)
        self.state.state, self.state.reason = state, reason
        self.state.since = at

    def _cut(self, at: int) -> None:
        """Close the running segment at ``at`` and book its time on the open contact."""
        current = self.state
        if current.since is not None and current.state != LOGGED_OUT and at > current.since:
            self.segments.append(
                Segment(current.since, at, current.state, current.reason, current.call_id)
            )
            if current.contact is not None and current.state in ON_CONTACT:
                span = at - current.since
                if current.state == TALK:
                    current.contact.talk_us += span
                elif current.state == HOLD:
                    current.contact.hold_us += span
                else:
                    current.contact.acw_us += span
        current.since = at

    def running_segment(self, until: int) -> Segment | None:
        """The segment still open, cut at ``until`` (for figures as of now)."""
        current = self.state
        if current.state == LOGGED_OUT or current.since is None or until <= current.since:
            return None
        return Segment(current.since, until, current.state, current.reason, current.call_id)


class OutOfOrder(Exception):
    """An event older than what the machine already applied: recompute from the store."""

    def __init__(self, event: CloudEvent) -> None:
        super().__init__(f"event {event.id} at {event.time.isoformat()} is behind the timeline")
        self.event = event


def replay(events: Iterable[CloudEvent], *, until: datetime | None = None) -> Timeline:
    """Build an agent's timeline from a set of events: order and duplicates do not matter."""
    unique = {e.id: e for e in events if e.type in STATE_EVENTS}
    machine = AgentMachine()
    for event in sorted(unique.values(), key=sort_key):
        machine.apply(event)
    segments = list(machine.segments)
    if until is not None:
        running = machine.running_segment(to_us(until))
        if running is not None:
            segments.append(running)
    return Timeline(segments, list(machine.contacts), list(machine.answers), replace(machine.state))
