"""Shared helpers of the CTI adapter tests: samples, a dict-backed resolver, checks."""

from __future__ import annotations

from pathlib import Path

from services.gateway.cti.adapters import AdapterResult
from services.metrics.domain.timeline import Timeline, replay
from shared.events import CloudEvent, validate_event

SAMPLES = Path(__file__).parent / "samples"


def sample(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


class DictResolver:
    """A roster's ``external_ids`` as ``{(system, external id): person id}``; records lookups."""

    def __init__(self, known: dict[tuple[str, str], str]) -> None:
        self.known = known
        self.calls: list[tuple[str, str]] = []

    def __call__(self, source: str, external_id: str, /) -> str | None:
        self.calls.append((source, external_id))
        return self.known.get((source, external_id))


def assert_all_valid(result: AdapterResult) -> None:
    """Every event survives the consumer's validation unchanged, and ids are unique."""
    ids = [e.id for e in result.events]
    assert len(ids) == len(set(ids))
    for event in result.events:
        checked = validate_event(event.model_dump(mode="json"))
        assert checked.id == event.id
        assert checked.type == event.type
        assert checked.data == event.data
        assert checked.time == event.time
        assert checked.time.utcoffset() is not None and not checked.time.utcoffset()


def brief(events: list[CloudEvent]) -> list[tuple[str, str, dict]]:
    """``(short type, ISO time, data)`` per event: readable expectations."""
    return [
        (
            e.type.removeprefix("cti."),
            e.time.isoformat().replace("+00:00", "Z"),
            e.data.model_dump(exclude_none=True),
        )
        for e in events
    ]


def agent_timeline(events: list[CloudEvent], agent_id: str) -> Timeline:
    mine = [e for e in events if getattr(e.data, "agent_id", None) == agent_id]
    return replay(mine)


def seconds(us: int) -> float:
    return us / 1_000_000
