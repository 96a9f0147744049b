"""Amazon Connect agent event stream records → canonical CTI events
(``POST /v1/cti/amazon-connect/agent-events``).

Input (what a Kinesis consumer forwards; :func:`decode_records`):

* one ``AgentEvent`` record (a JSON object with ``EventType``);
* a JSON array of records (each may also be a Kinesis record, below);
* a batch of Kinesis records, each carrying the base64 of one record's JSON:
  ``{"Records": [{"kinesis": {"data": "…"}}]}`` (the event a Lambda receives),
  ``{"Records": [{"Data": "…", "PartitionKey": …}]}`` (a ``GetRecords`` answer) or
  ``{"records": [{"data": "…"}]}`` (a Firehose HTTP-endpoint delivery body).

A record (Amazon Connect "Agent event streams data model") carries ``EventId``,
``EventTimestamp`` (ISO 8601, UTC), ``EventType`` (``LOGIN`` | ``LOGOUT`` | ``STATE_CHANGE`` |
``HEART_BEAT``), ``AgentARN``, ``InstanceARN`` and two ``AgentSnapshot`` objects,
``PreviousAgentSnapshot`` and ``CurrentAgentSnapshot``, each with ``AgentStatus`` (``ARN``,
``Name``, ``StartTimestamp``, ``Type`` ``ROUTABLE`` | ``CUSTOM`` | ``OFFLINE``),
``Configuration`` (``Username``, ``FirstName``, …) and ``Contacts`` (``ContactId``,
``InitialContactId``, ``Channel``, ``InitiationMethod``, ``State``, ``StateStartTimestamp``,
``ConnectedToAgentTimestamp``, ``QueueTimestamp``, ``Queue`` {``ARN``, ``Name``}).

Canonical events come from **diffing the previous snapshot against the current one**, so a
record that repeats a state never re-emits it:

* ``LOGIN`` with status ROUTABLE → ``agent.logged_in`` (EventTimestamp); with a CUSTOM status
  such as "Break" → ``agent.logged_in`` state aux, reason ``break``; with OFFLINE → nothing
  (ignored: the session starts when the agent leaves Offline).
* ``LOGOUT`` → ``agent.logged_out`` (EventTimestamp; the Offline status' start when the agent
  went Offline first, see below).
* Status OFFLINE (or none) → ROUTABLE | CUSTOM → ``agent.logged_in`` with the state/reason;
  → ROUTABLE → ``agent.state_changed`` available; → CUSTOM "Lunch" → ``agent.state_changed``
  aux ``lunch``; → OFFLINE → ``agent.logged_out``. Time: the status ``StartTimestamp``.
* Voice contact (absent | INCOMING | PENDING | CONNECTING) → CONNECTED → ``call.offered``
  (QueueTimestamp, else the answer time) + ``call.answered`` (ConnectedToAgentTimestamp, else
  StateStartTimestamp).
* CONNECTED → CONNECTED_ONHOLD → ``call.held``; CONNECTED_ONHOLD → CONNECTED →
  ``call.resumed`` (both at EventTimestamp).
* → ENDED → ``call.ended``: talk ends, ACW starts (the ENDED contact's StateStartTimestamp).
* ENDED → gone from ``Contacts`` → ``call.wrapup_ended`` (EventTimestamp); a contact still
  ENDED when the status leaves ``AfterContactWork`` → ``call.wrapup_ended`` (the new status'
  start).
* CONNECTED[_ONHOLD] → gone (the ENDED record was missed) → ``call.ended`` +
  ``call.wrapup_ended`` (EventTimestamp).
* → MISSED | REJECTED | ERROR → nothing (ignored with the reason); CONNECTING etc. → nothing
  yet (``offered`` waits for the connection, so a contact rung at several agents in turn is
  offered once, by the agent who takes it).
* ``HEART_BEAT`` → the same diff; no change → ignored.

Decisions:

* **Status kind.** ``AgentStatus.Type`` decides; older records without ``Type`` are read by
  name: ``Available`` is ROUTABLE, ``Offline`` is OFFLINE, anything else CUSTOM. A CUSTOM
  status becomes an aux reason by :func:`~services.gateway.cti.adapters.common.normalize_reason`
  (``"Break"`` → ``break``, ``"Team Meeting"`` → ``team_meeting``; ``On Break`` → ``break``,
  ``Lunch Break`` → ``lunch``). A status named ``AfterContactWork`` is the contact's ACW, not
  a choice of the agent: entering it emits nothing (``call.ended`` covers it), leaving it ends
  the wrap-up of the contacts still ENDED.
* **Login from Offline.** Leaving OFFLINE (or the first status after a missed LOGIN) is a
  ``logged_in`` carrying the new state, so a session always starts with a login; CallPulse's
  timeline treats a ``state_changed`` while logged out the same way. When the record has no
  previous snapshot at all, a status is a ``state_changed`` (a ``logged_in`` would be a no-op for
  an agent already in session).
* **No abandons.** An agent event stream only sees contacts that reach an agent, so this
  adapter never emits ``call.abandoned`` (nor ``offered`` for a call abandoned in queue); those
  belong to Amazon Connect's contact events / contact records.
* **Voice only.** CHAT/TASK/EMAIL contacts are reported as ignored; the canonical contract
  speaks of calls. ``MONITOR`` contacts (a supervisor listening) are ignored too. Outbound
  calls (``OUTBOUND``, ``EXTERNAL_OUTBOUND``) get ``answered`` but no ``offered`` (they never
  waited in a queue). A contact's queue id is ``Queue.Name``, else its ARN's last segment.
* **Hold times.** ``StateStartTimestamp`` does not move when a contact goes on hold (AWS
  documents it keeps the CONNECTED time), so hold and resume use the record's
  ``EventTimestamp``.
* **Ids.** Once-per-contact facts are keyed on the contact (offered: contact; answered, ended,
  wrap-up: contact and agent), repeatable ones on the record (hold/resume: EventId and contact;
  LOGIN/LOGOUT: EventId), a status on its instance (agent, status StartTimestamp, kind,
  reason; EventId when there is no StartTimestamp). So a HEART_BEAT that re-reveals a change an
  earlier STATE_CHANGE already reported yields the same id, and the ingest applies it once.
* **Agent id.** ``Configuration.Username``, then the user id at the end of ``AgentARN``
  (``…/agent/<id>``), resolved with system ``"amazon-connect"`` in that order; an agent the
  roster does not know is kept under the username (the user id when there is none).
* **Source.** The ``source`` argument, else ``amazon-connect/<instance id>`` from the ARN.
* ``LOGOUT`` after the status went Offline is the same logout: it is emitted at the Offline
  status' start with that status' identity, so it and the ``STATE_CHANGE`` to Offline (in this
  body or another) make one ``logged_out``.
* A body that is not JSON (or not an object/array) raises :class:`InvalidPayload`; a bad
  record inside a good body (undecodable base64, no ``EventType``, a bad timestamp, no agent
  identity) is ignored with its index and counted as malformed (a body of nothing else is not
  agent events), and an unknown ``EventType`` is reported in ``unknown``.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from services.gateway.cti.adapters.common import (
    AdapterResult,
    AgentResolver,
    EventSink,
    Resolver,
    normalize_reason,
    truncate,
)
from shared.events import EventType, cti

SYSTEM = "amazon-connect"
EVENT_TYPES = frozenset({"LOGIN", "LOGOUT", "STATE_CHANGE", "HEART_BEAT"})

AVAILABLE, AUX, OFFLINE, ACW = "available", "aux", "offline", "acw"
KIND_BY_TYPE = {"ROUTABLE": AVAILABLE, "CUSTOM": AUX, "OFFLINE": OFFLINE}
ACW_NAMES = frozenset({"after_contact_work", "aftercontactwork", "acw"})

CONNECTED, ONHOLD, ENDED = "CONNECTED", "CONNECTED_ONHOLD", "ENDED"
LIVE = frozenset({CONNECTED, ONHOLD})
RINGING = frozenset({"INCOMING", "PENDING", "CONNECTING"})
NOT_HANDLED = frozenset({"MISSED", "REJECTED", "ERROR"})
OUTBOUND = frozenset({"OUTBOUND", "EXTERNAL_OUTBOUND"})


class InvalidPayload(ValueError):
    """The request body is not a record, a list of records or a Kinesis envelope."""


# -- decoding ---------------------------------------------------------------------------------


def decode_records(payload: Any) -> tuple[list[tuple[int, Any]], list[dict[str, Any]]]:
    """``(records, problems)``: each record with its index in the body, each problem with its.

    ``payload`` is the raw body (``bytes``/``str``) or its decoded JSON.
    """
    if isinstance(payload, bytes | bytearray | memoryview | str):
        try:
            payload = orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            raise InvalidPayload(f"not JSON: {exc}") from None
    batch = _batch(payload) if isinstance(payload, dict) else None
    if batch is not None:
        items = batch
    elif isinstance(payload, dict):
        items = [payload]
    elif isinstance(payload, list):
        items = payload
    else:
        raise InvalidPayload("expected a record, a JSON array of records or a Kinesis batch")
    records: list[tuple[int, Any]] = []
    problems: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        if _is_kinesis_record(item):
            try:
                item = _kinesis_data(item)
            except ValueError as exc:
                problems.append({"index": index, "reason": f"record {index}: {exc}"})
                continue
        records.append((index, item))
    return records, problems


def _batch(payload: dict[str, Any]) -> list[Any] | None:
    """The records of a Kinesis/Firehose batch body, or None for a plain record."""
    if "EventType" in payload:
        return None
    for name in ("Records", "records"):
        if isinstance(payload.get(name), list):
            return payload[name]
    return None


def _is_kinesis_record(item: Any) -> bool:
    if not isinstance(item, dict) or "EventType" in item:
        return False
    return isinstance(item.get("kinesis"), dict) or "data" in item or "Data" in item


def _kinesis_data(item: dict[str, Any]) -> Any:
    """One Kinesis record's payload: ``kinesis.data`` (Lambda), ``Data`` or ``data``."""
    holder = item["kinesis"] if isinstance(item.get("kinesis"), dict) else item
    data = holder.get("data", holder.get("Data"))
    if not isinstance(data, str):
        raise ValueError("Kinesis record without base64 data")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("Kinesis data is not base64") from None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ValueError("Kinesis data is not a JSON record") from None


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 (``2019-05-25T18:55:27.017Z``) or epoch seconds/milliseconds, as aware UTC."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 100_000_000_000 else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# -- snapshots --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Status:
    kind: str  # available | aux | offline | acw
    reason: str | None
    start: datetime | None

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.kind, self.reason)


@dataclass(frozen=True, slots=True)
class Contact:
    contact_id: str
    state: str
    channel: str
    method: str
    state_start: datetime | None
    connected_at: datetime | None
    queued_at: datetime | None
    queue_id: str


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _status(snapshot: dict[str, Any]) -> Status | None:
    raw = _dict(snapshot.get("AgentStatus"))
    name = raw.get("Name") if isinstance(raw.get("Name"), str) else ""
    type_ = str(raw.get("Type") or "").upper()
    if not raw or (not name and not type_):
        return None
    normalized = normalize_reason(name, default="")
    if normalized in ACW_NAMES:
        kind = ACW
    elif type_ in KIND_BY_TYPE:
        kind = KIND_BY_TYPE[type_]
    elif normalized == "available":
        kind = AVAILABLE
    elif normalized == "offline":
        kind = OFFLINE
    else:
        kind = AUX
    reason = None
    if kind == AUX:
        reason = normalized or "custom"
    return Status(kind, reason, parse_time(raw.get("StartTimestamp")))


def _queue_id(queue: dict[str, Any]) -> str:
    name = queue.get("Name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    arn = queue.get("ARN")
    if isinstance(arn, str) and arn.strip():
        return arn.strip().rstrip("/").rsplit("/", 1)[-1]
    return "unknown"


def _contacts(snapshot: dict[str, Any]) -> dict[str, Contact]:
    found: dict[str, Contact] = {}
    raw_contacts = snapshot.get("Contacts")
    for raw in raw_contacts if isinstance(raw_contacts, list) else []:
        if not isinstance(raw, dict):
            continue
        contact_id = raw.get("ContactId")
        if not isinstance(contact_id, str) or not contact_id.strip():
            continue
        found[contact_id.strip()] = Contact(
            contact_id=contact_id.strip(),
            state=str(raw.get("State") or "").upper(),
            channel=str(raw.get("Channel") or "VOICE").upper(),
            method=str(raw.get("InitiationMethod") or "").upper(),
            state_start=parse_time(raw.get("StateStartTimestamp")),
            connected_at=parse_time(raw.get("ConnectedToAgentTimestamp")),
            queued_at=parse_time(raw.get("QueueTimestamp")),
            queue_id=_queue_id(_dict(raw.get("Queue"))),
        )
    return found


def _arn_segment(arn: Any, kind: str) -> str | None:
    """``arn:aws:connect:…:instance/<i>/agent/<a>`` → the id after ``kind/``."""
    if not isinstance(arn, str):
        return None
    parts = arn.split("/")
    for i, part in enumerate(parts[:-1]):
        if part.endswith(kind) and parts[i + 1]:
            return parts[i + 1]
    return None


# -- the adapter ------------------------------------------------------------------------------


def adapt_agent_events(
    payload: Any, *, source: str | None = None, resolve: Resolver | None = None
) -> AdapterResult:
    """Map Amazon Connect agent event stream records to canonical events (module docstring).

    Raises :class:`InvalidPayload` only when the body as a whole is unusable.
    """
    records, problems = decode_records(payload)
    agents = AgentResolver(SYSTEM, resolve)
    sink = EventSink(agents)
    sink.result.records = len(records) + len(problems)
    for problem in problems:
        sink.malformed(problem["reason"], index=problem["index"])
    for index, record in records:
        _Record(sink, agents, index, record, source).apply()
    return sink.finish()


class _Record:
    """One agent event record, mapped by diffing its snapshots."""

    def __init__(
        self,
        sink: EventSink,
        agents: AgentResolver,
        index: int,
        record: Any,
        source: str | None,
    ) -> None:
        self.sink, self.agents, self.index, self.record = sink, agents, index, record
        self.given_source = source
        self.emitted = 0
        self.noted = 0

    def ignore(self, reason: str, *, malformed: bool = False) -> None:
        self.noted += 1
        where: dict[str, Any] = {"index": self.index}
        if isinstance(self.record, dict) and isinstance(self.record.get("EventId"), str):
            where["event_id"] = self.record["EventId"]
        report = self.sink.malformed if malformed else self.sink.ignore
        report(f"record {self.index}: {reason}", **where)

    def apply(self) -> None:
        record = self.record
        if not isinstance(record, dict):
            self.ignore("not a JSON object", malformed=True)
            return
        event_type = str(record.get("EventType") or "").upper()
        if not event_type:
            self.ignore("no EventType", malformed=True)
            return
        if event_type not in EVENT_TYPES:
            self.sink.unknown(
                index=self.index,
                event_type=truncate(event_type, 80),
                raw=truncate(str(record.get("EventId") or "")),
            )
            return
        self.event_type = event_type
        self.at = parse_time(record.get("EventTimestamp"))
        if self.at is None:
            self.ignore(
                f"EventTimestamp {record.get('EventTimestamp')!r} is not ISO 8601", malformed=True
            )
            return
        self.record_id = str(record.get("EventId") or self.at.isoformat())
        self.current = _dict(record.get("CurrentAgentSnapshot"))
        self.previous = _dict(record.get("PreviousAgentSnapshot"))
        self.has_previous = isinstance(record.get("PreviousAgentSnapshot"), dict)
        if not self._identify():
            return
        self.source = self.given_source or self._default_source()

        if event_type == "HEART_BEAT" and not self.has_previous:
            self.ignore("HEART_BEAT without PreviousAgentSnapshot: nothing to compare")
            return
        status_prev, status_cur = _status(self.previous), _status(self.current)
        self._contacts(status_prev, status_cur)
        if event_type == "LOGIN":
            self._login(status_cur)
        elif event_type == "LOGOUT":
            self._logout(status_prev, status_cur)
        else:
            self._status_change(status_prev, status_cur)
        if not self.emitted and not self.noted:
            self.ignore(f"{event_type} without a status or voice contact change")

    # -- identity ------------------------------------------------------------------------

    def _identify(self) -> bool:
        username = None
        for snapshot in (self.current, self.previous):
            value = _dict(snapshot.get("Configuration")).get("Username")
            if isinstance(value, str) and value.strip():
                username = value.strip()
                break
        user_id = _arn_segment(self.record.get("AgentARN"), "agent")
        if not username and not user_id:
            self.ignore("no agent identity (Configuration.Username or AgentARN)", malformed=True)
            return False
        self.agent_id, self.resolved = self.agents(username, user_id)
        self.agent_key = str(self.record.get("AgentARN") or username)
        return True

    def _default_source(self) -> str:
        instance = _arn_segment(self.record.get("InstanceARN"), "instance") or _arn_segment(
            self.record.get("AgentARN"), "instance"
        )
        return f"{SYSTEM}/{instance}" if instance else SYSTEM

    # -- emitting ------------------------------------------------------------------------

    def _emit(self, type_: EventType, data: Any, at: datetime, identity: tuple) -> None:
        names_agent = getattr(data, "agent_id", None) is not None
        self.sink.emit(
            type_,
            data,
            source=self.source,
            time=at,
            identity=(*identity, type_.value),
            resolved=self.resolved or not names_agent,
        )
        self.emitted += 1  # a duplicate within the body still counts: the record meant it

    def _emit_agent(
        self,
        type_: EventType,
        at: datetime,
        identity: tuple,
        status: Status | None = None,
    ) -> None:
        state = reason = None
        if status is not None and status.kind in (AVAILABLE, AUX):
            state, reason = status.kind, status.reason
        if type_ is EventType.AGENT_LOGGED_IN:
            data: Any = cti.AgentLoggedIn(agent_id=self.agent_id, state=state, reason=reason)
        elif type_ is EventType.AGENT_LOGGED_OUT:
            data = cti.AgentLoggedOut(agent_id=self.agent_id)
        else:
            data = cti.AgentStateChanged(agent_id=self.agent_id, state=state, reason=reason)
        self._emit(type_, data, at, ("agent", self.agent_key, *identity))

    # -- agent status --------------------------------------------------------------------

    def _login(self, status: Status | None) -> None:
        if status is not None and status.kind == OFFLINE:
            self.ignore("LOGIN with status Offline: the session starts when the agent leaves it")
            return
        if status is not None and status.kind == ACW:
            status = None
        self._emit_agent(EventType.AGENT_LOGGED_IN, self.at, (self.record_id, "login"), status)

    def _logout(self, prev: Status | None, cur: Status | None) -> None:
        offline = next(
            (s for s in (cur, prev) if s is not None and s.kind == OFFLINE and s.start), None
        )
        if offline is not None:  # the session ended when the agent went Offline
            assert offline.start is not None
            at = min(offline.start, self.at)
            self._emit_agent(EventType.AGENT_LOGGED_OUT, at, self._status_identity(offline))
        else:
            self._emit_agent(EventType.AGENT_LOGGED_OUT, self.at, (self.record_id, "logout"))

    def _status_identity(self, status: Status) -> tuple:
        if status.start is not None:
            return ("status", status.start.isoformat(), status.kind, status.reason or "")
        return (self.record_id, "status", status.kind, status.reason or "")

    def _status_change(self, prev: Status | None, cur: Status | None) -> None:
        if cur is None or cur.kind == ACW:
            return
        if prev is not None and prev.key == cur.key:
            return
        at = cur.start or self.at
        identity = self._status_identity(cur)
        if cur.kind == OFFLINE:
            self._emit_agent(EventType.AGENT_LOGGED_OUT, at, identity)
        elif self.has_previous and (prev is None or prev.kind == OFFLINE):
            self._emit_agent(EventType.AGENT_LOGGED_IN, at, identity, cur)
        else:
            self._emit_agent(EventType.AGENT_STATE_CHANGED, at, identity, cur)

    # -- contacts ------------------------------------------------------------------------

    def _contacts(self, status_prev: Status | None, status_cur: Status | None) -> None:
        before, after = _contacts(self.previous), _contacts(self.current)
        leaving_acw = (
            status_prev is not None
            and status_prev.kind == ACW
            and (status_cur is None or status_cur.kind != ACW)
        )
        for contact_id in dict.fromkeys([*before, *after]):
            prev, cur = before.get(contact_id), after.get(contact_id)
            contact = cur or prev
            assert contact is not None
            ps, cs = (prev.state if prev else None), (cur.state if cur else None)
            if contact.channel != "VOICE":
                if ps != cs:
                    self.ignore(f"contact {contact_id}: {contact.channel} contacts are not calls")
                continue
            if contact.method == "MONITOR":
                if ps != cs:
                    self.ignore(f"contact {contact_id}: a MONITOR contact is not handled")
                continue
            if ps == cs:
                if cs == ENDED and leaving_acw:
                    at = (status_cur.start if status_cur else None) or self.at
                    self._wrapup(contact, at)
                continue
            self._transition(contact, prev, cur, ps, cs)

    def _transition(
        self,
        contact: Contact,
        prev: Contact | None,
        cur: Contact | None,
        ps: str | None,
        cs: str | None,
    ) -> None:
        cid = contact.contact_id
        if cur is not None and cs in LIVE and ps not in LIVE:
            self._answer(cur)
            if cs == ONHOLD:
                self._hold(cid, EventType.CALL_HELD)
        elif ps == CONNECTED and cs == ONHOLD:
            self._hold(cid, EventType.CALL_HELD)
        elif ps == ONHOLD and cs == CONNECTED:
            self._hold(cid, EventType.CALL_RESUMED)
        elif cur is not None and cs == ENDED:
            if ps not in LIVE:
                if cur.connected_at is None:
                    self.ignore(f"contact {cid}: ENDED without reaching the agent")
                    return
                self._answer(cur)
            self._end(contact, cur.state_start or self.at)
        elif cur is None and ps == ENDED:
            self._wrapup(contact, self.at)
        elif cur is None and ps in LIVE:
            self._end(contact, self.at)
            self._wrapup(contact, self.at)
        elif cs in NOT_HANDLED:
            self.ignore(f"contact {cid} {cs}: no canonical event (the call was not handled)")
        elif cs in RINGING:
            self.ignore(f"contact {cid} {cs}: offered is emitted when the agent connects")
        elif cur is None:
            pass  # a ringing, missed or rejected contact cleared from the list
        else:
            self.ignore(f"contact {cid}: {ps or 'none'} → {cs} has no canonical meaning")

    def _answer(self, contact: Contact) -> None:
        answered_at = contact.connected_at or (
            contact.state_start if contact.state == CONNECTED else None
        )
        answered_at = answered_at or self.at
        cid = contact.contact_id
        if contact.method not in OUTBOUND:
            offered_at = min(contact.queued_at or answered_at, answered_at)
            self._emit(
                EventType.CALL_OFFERED,
                cti.CallOffered(call_id=cid, queue_id=contact.queue_id),
                offered_at,
                ("contact", cid),
            )
        self._emit(
            EventType.CALL_ANSWERED,
            cti.CallAnswered(call_id=cid, queue_id=contact.queue_id, agent_id=self.agent_id),
            answered_at,
            ("contact", cid, self.agent_key),
        )

    def _hold(self, cid: str, type_: EventType) -> None:
        model = cti.CallHeld if type_ is EventType.CALL_HELD else cti.CallResumed
        self._emit(
            type_,
            model(call_id=cid, agent_id=self.agent_id),
            self.at,
            ("contact", cid, self.agent_key, self.record_id),
        )

    def _end(self, contact: Contact, at: datetime) -> None:
        cid = contact.contact_id
        self._emit(
            EventType.CALL_ENDED,
            cti.CallEnded(call_id=cid, agent_id=self.agent_id),
            at,
            ("contact", cid, self.agent_key),
        )

    def _wrapup(self, contact: Contact, at: datetime) -> None:
        cid = contact.contact_id
        self._emit(
            EventType.CALL_WRAPUP_ENDED,
            cti.CallWrapupEnded(call_id=cid, agent_id=self.agent_id),
            at,
            ("contact", cid, self.agent_key),
        )


__all__ = ["SYSTEM", "InvalidPayload", "adapt_agent_events", "decode_records", "parse_time"]
