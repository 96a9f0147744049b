"""The live stream, ``GET /v1/stream``: Server-Sent Events (see :data:`PROTOCOL`).

SSE rather than WebSocket: the stream only flows one way, it is plain HTTP (through every proxy,
with the same auth, limits and logs as the rest of the API), and browsers' ``EventSource``
reconnects and resumes with ``Last-Event-ID`` by itself.

- :mod:`.visibility` who may see which event (pure), :mod:`.hub` the fan-out, ring buffer and
  snapshots (pure asyncio), :mod:`.sources` the metrics poller and the ``care.events`` feed,
  :mod:`.sse` the wire format, :mod:`.response` the HTTP response, :mod:`.live` the lifespan.
"""

PROTOCOL = """\
Server-Sent Events (`text/event-stream`); in a browser, `new EventSource(url)`.

**Authentication**: the bearer token in `Authorization`, or, since EventSource cannot send
headers, the same token in `?access_token=` (this path only; the gateway never logs query
strings). The token is checked when the stream opens, and the stream ends (`closing`,
`token_expired`) when it expires: reconnect with a fresh token to resume.

**Events** (each `data` is one JSON object):
- `agent_state` — an agent's state changed: `agent_id`, `team_id`, `state`, `reason`, `since`,
  `call_id` (the call they are on).
- `queue_snapshot` — a queue's figures changed: `queue_id`, `calls_waiting`, `longest_wait_s`,
  `oldest_waiting_since`, `service_level_today` (running, since local midnight),
  `offered_today`, `answered_today`, `abandoned_today`, `as_of`. The longest wait grows by
  itself: count it from `oldest_waiting_since`.
- `care_task` — a care task opened or closed: `task_id`, `change` (`opened`/`closed`), `status`,
  `rule`, `agent_id`, `team_id`, `assignee_id`, `urgent`, `due_at`, `at`. Never its content:
  read it at `GET /v1/care/tasks/{id}`.
- `snapshot` — the current `agents` and `queues` the caller may see, and `as_of` (when they were
  read from metrics). Sent first on a fresh connection; open care tasks are listed by
  `GET /v1/care/tasks`.
- `reset` — the stream could not resume from `Last-Event-ID` (`reason`: `unknown_epoch` after
  a gateway restart or on another replica, `too_far_behind`, `unrecognised_id`): throw the
  local state away; a `snapshot` follows.
- `closing` — the server ends this stream (`reason`: `too_slow` when the client fell more than
  the allowed number of events behind, `server_stopping`, `token_expired`); reconnect to
  resume.

Heartbeats are comments (`: heartbeat`) every 15 s by default. The first message is a `retry:`
hint (milliseconds before EventSource reconnects).

**Ids and resuming**: every pushed event has an id `<epoch>-<seq>`; `epoch` names the gateway
process's lifetime. Reconnecting with `Last-Event-ID` (EventSource does this by itself) replays
exactly the missed events the caller may see, from a buffer of the last events; an id from
another epoch, or older than the buffer, gets `reset` then `snapshot`.

**Who sees what** (the same rules as the REST API):
- `agent_state`: your own; team leads the agents of their teams; ops, QA, managers and admins
  everyone. Agents and trainers no one else.
- `queue_snapshot`: team leads, ops, QA, managers and admins (as `GET /v1/realtime/queues`).
- `care_task`: team leads the tasks of their teams and those assigned to them, managers and
  admins all; never the agent a task is about; never ops, QA or trainers.
"""
