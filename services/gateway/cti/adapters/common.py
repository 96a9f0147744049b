"""What every CTI adapter shares: agent resolution, deterministic ids and the result shape.

Adapters are pure functions from a vendor payload to canonical CloudEvents (DESIGN §3): no I/O,
no clock, no randomness. The same input always yields the same events with the same ids, so a
CTI system (or an operator) may re-send a batch and the idempotent ingest applies it once.

* **Resolution.** A :data:`Resolver` maps ``(system, external_id)`` to a CallPulse person id;
  the gateway backs it with the roster's ``external_ids`` (``{"asterisk": "Agent/1001"}``,
  ``{"amazon-connect": "<user id>"}``). ``system`` is the CTI kind (``"asterisk"``,
  ``"amazon-connect"``), not the event source. An agent the roster does not know is *kept*
  under its external id (never dropped) and listed in :attr:`AdapterResult.unresolved_agents`.
* **Ids.** :func:`event_id` is a UUIDv5 of the event source and the record's stable identity
  (never of the resolved person id, so fixing the roster later does not mint new ids for an
  already ingested record: the ingest keeps what it applied first).
* **Reports.** Records that carry no canonical meaning are ``ignored`` (with the reason); records
  of a kind the adapter does not know are ``unknown``. Neither is fatal.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from shared.events import CloudEvent, EventData, EventType, make_event

#: Namespace of every adapter-derived event id (a constant: changing it re-mints every id).
ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://callpulse.dev/ns/cti-adapter-event")

#: Longest reason the canonical payloads accept (``shared.events.cti.Reason``).
REASON_MAX = 64
RAW_MAX = 300


class Resolver(Protocol):
    """``(system, external_id) -> person id``, or ``None`` when the roster does not know it."""

    def __call__(self, source: str, external_id: str, /) -> str | None: ...


def no_resolver(source: str, external_id: str, /) -> str | None:
    """A resolver that knows nobody: every agent stays under its external id."""
    return None


def event_id(source: str, *identity: object) -> str:
    """The deterministic id of a canonical event: UUIDv5 over the source and the identity."""
    name = "\x1f".join([source, *(str(part) for part in identity)])
    return str(uuid.uuid5(ID_NAMESPACE, name))


#: Common vendor spellings of the canonical aux reasons (DESIGN §3).
REASON_ALIASES = {
    "on_break": "break",
    "coffee_break": "break",
    "lunch_break": "lunch",
    "on_lunch": "lunch",
    "in_a_meeting": "meeting",
    "in_meeting": "meeting",
}

_NON_WORD = re.compile(r"[^0-9a-z]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def normalize_reason(raw: str | None, *, default: str) -> str:
    """A vendor status/pause label as a canonical aux reason: ``"Lunch Break"`` → ``lunch_break``.

    CamelCase is split (``"AfterContactWork"`` → ``after_contact_work``), anything that is not a
    letter or digit becomes one underscore, the result is cut to the payload's 64 characters.
    A few spellings of DESIGN §3's reasons are folded onto them (``"On Break"`` → ``break``,
    ``"Lunch Break"`` → ``lunch``). Empty input gives ``default``.
    """
    text = _CAMEL.sub("_", (raw or "").strip())
    text = _NON_WORD.sub("_", text.lower()).strip("_")
    text = text[:REASON_MAX].rstrip("_")
    return REASON_ALIASES.get(text, text) or default


def as_utc(moment: datetime) -> datetime:
    """Aware UTC; a naive timestamp from a CTI system is taken as UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def truncate(raw: str, limit: int = RAW_MAX) -> str:
    return raw if len(raw) <= limit else raw[: limit - 1] + "…"


class AgentResolver:
    """Resolves external agent ids once per batch and remembers the ones kept as-is.

    ``candidates`` are tried in order (e.g. Amazon Connect's username, then its user id); the
    first the resolver knows wins. When none resolves, the first candidate is the agent id.
    """

    def __init__(self, system: str, resolve: Resolver | None) -> None:
        self.system = system
        self._resolve = resolve or no_resolver
        self._cache: dict[str, str | None] = {}
        self.unresolved: set[str] = set()

    def _lookup(self, external_id: str) -> str | None:
        if external_id not in self._cache:
            person = self._resolve(self.system, external_id)
            self._cache[external_id] = person or None
        return self._cache[external_id]

    def __call__(self, *candidates: str | None) -> tuple[str, bool]:
        """``(agent_id, resolved)`` for the first known candidate, else the first candidate."""
        ids = [c for c in dict.fromkeys(c.strip() for c in candidates if c) if c]
        if not ids:
            raise ValueError("no external agent id")
        for external in ids:
            person = self._lookup(external)
            if person:
                return person, True
        self.unresolved.add(ids[0])
        return ids[0], False


@dataclass
class AdapterResult:
    """What an adapter made of one request body.

    ``events`` are canonical and valid (built with :func:`shared.events.make_event`), unique by
    id, in input order. ``ignored`` entries name the record (``index`` or ``line_no``) and the
    reason; ``unknown`` entries name the record, its vendor type and a bit of the raw input.
    """

    events: list[CloudEvent] = field(default_factory=list)
    ignored: list[dict[str, Any]] = field(default_factory=list)
    unknown: list[dict[str, Any]] = field(default_factory=list)
    unresolved_agents: list[str] = field(default_factory=list)
    #: How many of ``events`` carry an agent id kept as-is (not resolved through the roster).
    unresolved_events: int = 0
    #: Input records (Amazon Connect) or non-blank lines (Asterisk) read.
    records: int = 0
    #: Of ``records``, how many were not readable as the vendor's format at all (also listed
    #: in ``ignored``); a body made only of those is not that format.
    malformed: int = 0

    @property
    def unreadable(self) -> bool:
        """Every record of a non-empty body was malformed: the body is not this format."""
        return self.records > 0 and self.malformed == self.records

    def summary(self) -> dict[str, Any]:
        """A JSON-able report for the HTTP response (the events themselves travel separately)."""
        return {
            "records": self.records,
            "event_ids": [e.id for e in self.events],
            "ignored": self.ignored,
            "unknown": self.unknown,
            "unresolved_agents": self.unresolved_agents,
            "unresolved_events": self.unresolved_events,
        }


class EventSink:
    """Collects the events of one adapter run: de-duplicated by id, unresolved agents counted."""

    def __init__(self, agents: AgentResolver) -> None:
        self.agents = agents
        self.result = AdapterResult()
        self._ids: set[str] = set()

    def emit(
        self,
        type_: EventType,
        data: EventData,
        *,
        source: str,
        time: datetime,
        identity: Iterable[object],
        resolved: bool = True,
    ) -> CloudEvent | None:
        eid = event_id(source, *identity)
        if eid in self._ids:
            return None  # the same fact reported twice in one body (e.g. per-queue fan-out)
        event = make_event(type_, data, source=source, time=as_utc(time), id=eid)
        self._ids.add(eid)
        self.result.events.append(event)
        if not resolved:
            self.result.unresolved_events += 1
        return event

    def ignore(self, reason: str, **where: Any) -> None:
        self.result.ignored.append({**where, "reason": reason})

    def malformed(self, reason: str, **where: Any) -> None:
        """A record that is not readable as the vendor's format at all."""
        self.result.malformed += 1
        self.ignore(reason, **where)

    def unknown(self, **entry: Any) -> None:
        self.result.unknown.append(entry)

    def finish(self) -> AdapterResult:
        self.result.unresolved_agents = sorted(self.agents.unresolved)
        return self.result
