"""Log capture for the no-secrets-in-logs tests: every record, and every line as the app
renders it."""

from __future__ import annotations

import io
import logging

import structlog


class Capture(logging.Handler):
    """Every log record while active, debug included, and each line as the app renders it.

    Enter it once the app exists: creating an app configures logging afresh."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        [app_handler] = [
            h
            for h in logging.getLogger().handlers
            if isinstance(h.formatter, structlog.stdlib.ProcessorFormatter)
        ]
        self.setFormatter(app_handler.formatter)
        self.records: list[logging.LogRecord] = []
        self.text = io.StringIO()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.text.write(self.format(record) + "\n")

    def __enter__(self) -> Capture:
        root = logging.getLogger()
        self.previous_level = root.level
        root.setLevel(logging.DEBUG)
        root.addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        root = logging.getLogger()
        root.removeHandler(self)
        root.setLevel(self.previous_level)

    def clear(self) -> None:
        self.records.clear()
        self.text = io.StringIO()

    def access(self) -> list[dict]:
        return [r.msg for r in self.records if r.name == "access" and isinstance(r.msg, dict)]
