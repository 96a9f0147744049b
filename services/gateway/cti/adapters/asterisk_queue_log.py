"""Asterisk ``queue_log`` lines → canonical CTI events (``POST /v1/cti/asterisk/queue-log``).

Format (Asterisk "Queue Logs" documentation; one event per line, pipe separated)::

    epoch|uniqueid|queuename|agent|event|data1|data2|...

``epoch`` is a UNIX timestamp (UTC), ``uniqueid`` the caller channel's unique id (``NONE`` or
``REALTIME`` on non-call lines), ``agent`` the queue member name (``NONE`` on caller-only
lines), and the data fields depend on the event.

Mapping (verb (data fields) → canonical type; every event's ``time`` is the line's epoch):

* ``ENTERQUEUE`` (url|callerid|position) → ``cti.call.offered`` (call_id = uniqueid,
  queue_id = queuename).
* ``CONNECT`` (holdtime|bridgedchanneluniqueid|ringtime) → ``cti.call.answered`` (call_id,
  queue_id, agent_id).
* ``COMPLETEAGENT`` / ``COMPLETECALLER`` (holdtime|calltime|origposition) → ``cti.call.ended``
  (extra ``ended_by`` = ``agent`` / ``caller``) **and** ``cti.call.wrapup_ended``, both at the
  line's time.
* ``TRANSFER`` (exten|context|holdtime|calltime|origposition), ``ATTENDEDTRANSFER``,
  ``BLINDTRANSFER`` → ``cti.call.ended`` (``ended_by`` = ``transfer``) + ``cti.call.wrapup_ended``.
* ``ABANDON`` (position|origposition|waittime), ``EXITWITHTIMEOUT`` (same), ``EXITEMPTY``
  (same), ``EXITWITHKEY`` (key|position|origposition|waittime) → ``cti.call.abandoned``
  (call_id, queue_id; extra ``exit_reason`` = ``abandon`` / ``timeout`` / ``empty`` / ``key``).
* ``ADDMEMBER`` (``PAUSED`` when the member joins paused), ``AGENTLOGIN`` (channel),
  ``AGENTCALLBACKLOGIN`` (exten@context) → ``cti.agent.logged_in``; a member added paused logs
  in as aux ``paused`` (Asterisk writes no separate ``PAUSE`` line for it).
* ``REMOVEMEMBER``, ``AGENTLOGOFF`` (channel|logintime), ``AGENTCALLBACKLOGOFF``
  (exten@context|logintime|reason) → ``cti.agent.logged_out``.
* ``PAUSE`` / ``PAUSEALL`` (reason) → ``cti.agent.state_changed`` aux, reason = the normalized
  data1 (``Lunch Break`` → ``lunch``, ``Team Meeting`` → ``team_meeting``; empty → ``paused``).
* ``UNPAUSE`` / ``UNPAUSEALL`` → ``cti.agent.state_changed`` available.
* ``RINGNOANSWER``, ``RINGCANCELED``, ``AGENTDUMP``, ``DID``, ``QUEUESTART``,
  ``CONFIGRELOAD``, ``SYSCOMPAT``, ``INFO``, ``NONE`` → ignored, reported with the reason.
* Anything else → ``unknown``, reported, not fatal.

Decisions:

* **No ACW in queue_log.** Asterisk logs no after-call-work event, so a completed call's
  ``ended`` and ``wrapup_ended`` share the line's time (ACW = 0). A team that runs wrap-up as a
  pause (``PAUSE|Wrapup``) sees it as aux time, which is what it is on that PBX.
* **No hold in queue_log.** Asterisk does not log hold/resume to the queue log, so calls from
  this adapter never carry hold time; their talk time is CONNECT → COMPLETE*.
* **Transfers end the agent's call.** When the member transfers the caller, Asterisk logs
  ``TRANSFER`` / ``ATTENDEDTRANSFER`` / ``BLINDTRANSFER`` *instead of* ``COMPLETE*``; ignoring
  them would leave the agent talking until their next call or logout, so they close the call
  like a completion (``ended_by`` = ``transfer``).
* **The agent id** is the member name as written (``PJSIP/1001``, ``SIP/agent1``,
  ``Local/1001@agents/n``, ``Agent/1001``), resolved with system ``"asterisk"``; when the roster
  does not know it, the bare extension (``1001``: after the technology, before ``@``) is tried,
  and an unknown agent is kept under the name as written.
* **Per-queue fan-out collapses.** One action on a member in several queues writes one line
  per queue (plus ``PAUSEALL``/``UNPAUSEALL`` with queue ``NONE``). Agent-state events are
  therefore identified by (agent, epoch, canonical type, state, reason) — not by the queue or
  the verb — so the fan-out yields one event, with the same id whatever batches the lines
  arrive in. Call events are identified by the line itself (epoch, uniqueid, queue, agent, verb,
  data). CallPulse has no per-queue membership: ``REMOVEMEMBER`` from any queue ends the
  session.
* **Malformed lines** (fewer than 5 fields, a non-numeric epoch) and lines that cannot carry
  their event (a call verb without a call id or queue, an agent verb without an agent) are
  ``ignored`` with a reason naming the line number; blank lines are skipped. Nothing raises; a
  body whose every line is malformed is counted as such (it is not a queue_log).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from services.gateway.cti.adapters.common import (
    AdapterResult,
    AgentResolver,
    EventSink,
    Resolver,
    normalize_reason,
    truncate,
)
from shared.events import EventType, cti

SYSTEM = "asterisk"
NO_VALUE = frozenset({"", "NONE", "REALTIME"})

CALL_END = {
    "COMPLETEAGENT": "agent",
    "COMPLETECALLER": "caller",
    "TRANSFER": "transfer",
    "ATTENDEDTRANSFER": "transfer",
    "BLINDTRANSFER": "transfer",
}
QUEUE_EXIT = {
    "ABANDON": "abandon",
    "EXITWITHTIMEOUT": "timeout",
    "EXITEMPTY": "empty",
    "EXITWITHKEY": "key",
}
LOGIN = frozenset({"ADDMEMBER", "AGENTLOGIN", "AGENTCALLBACKLOGIN"})
LOGOUT = frozenset({"REMOVEMEMBER", "AGENTLOGOFF", "AGENTCALLBACKLOGOFF"})
PAUSE = frozenset({"PAUSE", "PAUSEALL"})
UNPAUSE = frozenset({"UNPAUSE", "UNPAUSEALL"})
IGNORED = {
    "RINGNOANSWER": "the member did not answer the ring; the call stays queued",
    "RINGCANCELED": "the ring to the member was cancelled; the call stays queued",
    "AGENTDUMP": "the member hung up during the announcement; the call stays queued",
    "DID": "dialled-number bookkeeping",
    "QUEUESTART": "queue engine start",
    "CONFIGRELOAD": "configuration reload",
    "SYSCOMPAT": "bridging incompatibility notice",
    "INFO": "informational line",
    "NONE": "placeholder line",
}

_EPOCH = re.compile(r"^\d{1,12}(\.\d{1,6})?$")
_EXTENSION = re.compile(r"^[^/]+/([^@/]+)")


def bare_extension(member: str) -> str | None:
    """``PJSIP/1001`` → ``1001``, ``Local/1001@agents/n`` → ``1001``; ``None`` without a tech."""
    match = _EXTENSION.match(member)
    return match.group(1) if match else None


def _epoch(raw: str) -> datetime | None:
    if not _EPOCH.match(raw):
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:  # pragma: no cover - the pattern already rules this out
        return None
    seconds = int(value)
    micros = int((value - seconds) * 1_000_000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=micros)


def adapt_queue_log(
    text: str | bytes, *, source: str, resolve: Resolver | None = None
) -> AdapterResult:
    """Map a queue_log excerpt (many lines) to canonical events; see the module docstring.

    ``source`` is the CloudEvent source, e.g. ``"asterisk/pbx-1"``.
    """
    if isinstance(text, bytes | bytearray):
        text = bytes(text).decode("utf-8", errors="replace")
    agents = AgentResolver(SYSTEM, resolve)
    sink = EventSink(agents)
    for line_no, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip()
        if not line:
            continue
        sink.result.records += 1
        _line(sink, agents, source, line_no, line)
    return sink.finish()


def _line(sink: EventSink, agents: AgentResolver, source: str, line_no: int, line: str) -> None:
    fields = [f.strip() for f in line.split("|")]
    if len(fields) < 5:
        sink.malformed(
            f"line {line_no}: {len(fields)} field(s), a queue_log line has at least 5 "
            "(epoch|uniqueid|queuename|agent|event)",
            line_no=line_no,
        )
        return
    epoch, call_id, queue, member, verb, *data = fields
    at = _epoch(epoch)
    if at is None:
        sink.malformed(
            f"line {line_no}: epoch {truncate(epoch, 40)!r} is not a number", line_no=line_no
        )
        return
    verb = verb.upper()
    data1 = data[0] if data else ""

    def agent() -> tuple[str, bool] | None:
        if member.upper() in NO_VALUE:
            sink.ignore(f"line {line_no}: {verb} without an agent", line_no=line_no, verb=verb)
            return None
        return agents(member, bare_extension(member))

    def call() -> bool:
        if call_id.upper() in NO_VALUE or queue.upper() in NO_VALUE:
            sink.ignore(
                f"line {line_no}: {verb} without a call id and queue", line_no=line_no, verb=verb
            )
            return False
        return True

    line_identity = ("line", epoch, call_id, queue, member, verb, *data)

    if verb == "ENTERQUEUE":
        if call():
            sink.emit(
                EventType.CALL_OFFERED,
                cti.CallOffered(call_id=call_id, queue_id=queue),
                source=source,
                time=at,
                identity=(*line_identity, EventType.CALL_OFFERED),
            )
    elif verb == "CONNECT":
        if call() and (who := agent()):
            agent_id, resolved = who
            sink.emit(
                EventType.CALL_ANSWERED,
                cti.CallAnswered(call_id=call_id, queue_id=queue, agent_id=agent_id),
                source=source,
                time=at,
                identity=(*line_identity, EventType.CALL_ANSWERED),
                resolved=resolved,
            )
    elif verb in CALL_END:
        if call() and (who := agent()):
            agent_id, resolved = who
            ended = cti.CallEnded(call_id=call_id, agent_id=agent_id, ended_by=CALL_END[verb])
            wrapped = cti.CallWrapupEnded(call_id=call_id, agent_id=agent_id)
            for type_, payload in (
                (EventType.CALL_ENDED, ended),
                (EventType.CALL_WRAPUP_ENDED, wrapped),
            ):
                sink.emit(
                    type_,
                    payload,
                    source=source,
                    time=at,
                    identity=(*line_identity, type_),
                    resolved=resolved,
                )
    elif verb in QUEUE_EXIT:
        if call():
            sink.emit(
                EventType.CALL_ABANDONED,
                cti.CallAbandoned(call_id=call_id, queue_id=queue, exit_reason=QUEUE_EXIT[verb]),
                source=source,
                time=at,
                identity=(*line_identity, EventType.CALL_ABANDONED),
            )
    elif verb in LOGIN or verb in LOGOUT or verb in PAUSE or verb in UNPAUSE:
        who = agent()
        if who is None:
            return
        agent_id, resolved = who
        if verb in LOGIN:
            type_ = EventType.AGENT_LOGGED_IN
            if verb == "ADDMEMBER" and data1.upper() == "PAUSED":
                state, reason = "aux", "paused"
                payload = cti.AgentLoggedIn(agent_id=agent_id, state="aux", reason="paused")
            else:
                state = reason = ""
                payload = cti.AgentLoggedIn(agent_id=agent_id)
        elif verb in LOGOUT:
            type_, payload = EventType.AGENT_LOGGED_OUT, cti.AgentLoggedOut(agent_id=agent_id)
            state = reason = ""
        elif verb in PAUSE:
            state, reason = "aux", normalize_reason(data1, default="paused")
            type_ = EventType.AGENT_STATE_CHANGED
            payload = cti.AgentStateChanged(agent_id=agent_id, state="aux", reason=reason)
        else:
            state, reason = "available", ""
            type_ = EventType.AGENT_STATE_CHANGED
            payload = cti.AgentStateChanged(agent_id=agent_id, state="available")
        sink.emit(
            type_,
            payload,
            source=source,
            time=at,
            identity=("agent", epoch, member, type_, state, reason),
            resolved=resolved,
        )
    elif verb in IGNORED:
        sink.ignore(f"line {line_no}: {verb}: {IGNORED[verb]}", line_no=line_no, verb=verb)
    else:
        sink.unknown(line_no=line_no, verb=verb, raw=truncate(line))


__all__ = ["SYSTEM", "adapt_queue_log", "bare_extension"]
