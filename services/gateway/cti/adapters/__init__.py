"""CTI adapters: vendor payloads in, canonical CloudEvents (DESIGN §3) out. Pure code, no I/O.

* :func:`adapt_agent_events` — Amazon Connect agent event stream records
  (``POST /v1/cti/amazon-connect/agent-events``).
* :func:`adapt_queue_log` — Asterisk ``queue_log`` lines (``POST /v1/cti/asterisk/queue-log``).

Both take a :class:`Resolver` (external CTI id → CallPulse person id, backed by the roster's
``external_ids``) and return an :class:`AdapterResult`.
"""

from services.gateway.cti.adapters.amazon_connect import InvalidPayload, adapt_agent_events
from services.gateway.cti.adapters.asterisk_queue_log import adapt_queue_log
from services.gateway.cti.adapters.common import AdapterResult, Resolver, event_id

__all__ = [
    "AdapterResult",
    "InvalidPayload",
    "Resolver",
    "adapt_agent_events",
    "adapt_queue_log",
    "event_id",
]
