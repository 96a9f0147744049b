"""RFC 9457 problem details: every error a service returns is ``application/problem+json``.

Domain code raises a :class:`Problem` subclass; one handler renders it. Validation errors from
FastAPI become 422 problems listing each bad field; text PostgreSQL cannot store (U+0000) is a
422 too; anything unexpected becomes a 500 problem without a stack trace.
"""

from __future__ import annotations

from typing import Any

import orjson
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://callpulse.dev/problems/"

log = structlog.get_logger("errors")


class Problem(Exception):
    """An error with an HTTP status and a stable problem ``type`` slug."""

    status: int = 500
    type: str = "internal-error"
    title: str = "Internal server error"

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extensions = extensions

    def to_dict(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": TYPE_BASE + self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extensions)
        return body


class BadRequest(Problem):
    status, type, title = 400, "bad-request", "Bad request"


class Unauthorized(Problem):
    status, type, title = 401, "unauthorized", "Authentication required"


class Forbidden(Problem):
    status, type, title = 403, "forbidden", "Not allowed"


class NotFound(Problem):
    status, type, title = 404, "not-found", "Not found"


class Conflict(Problem):
    status, type, title = 409, "conflict", "Conflict"


class RuleViolation(Problem):
    """A domain rule refused the request; ``rule`` names it so clients can react."""

    status, type, title = 422, "rule-violation", "Business rule violated"

    def __init__(self, rule: str, detail: str, **extensions: Any) -> None:
        super().__init__(detail, rule=rule, **extensions)


class ValidationFailed(Problem):
    """The request body, path or query did not validate; ``errors`` lists each field."""

    status, type, title = 422, "validation-error", "Invalid request"


class TooManyRequests(Problem):
    status, type, title = 429, "too-many-requests", "Too many requests"

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(detail, retry_after_s=retry_after_s)
        self.retry_after_s = retry_after_s


class ServiceUnavailable(Problem):
    status, type, title = 503, "service-unavailable", "Service unavailable"


def problem_response(
    problem: Problem, request: Request | None = None, headers: dict[str, str] | None = None
) -> Response:
    instance = str(request.url.path) if request is not None else None
    if isinstance(problem, TooManyRequests):
        headers = {**(headers or {}), "Retry-After": str(problem.retry_after_s)}
    if isinstance(problem, Unauthorized):
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return Response(
        orjson.dumps(problem.to_dict(instance)),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


class HttpProblem(Problem):
    """A plain HTTP error raised by the framework (405, 413 …) rendered as a problem."""

    type = "http-error"

    def __init__(self, exc: StarletteHTTPException) -> None:
        super().__init__(str(exc.detail))
        self.status = exc.status_code
        self.title = str(exc.detail)


_STATUS_PROBLEMS: dict[int, type[Problem]] = {
    p.status: p for p in (BadRequest, Unauthorized, Forbidden, NotFound, Conflict)
}


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ())]
        errors.append(
            {"field": ".".join(loc), "message": err.get("msg", ""), "type": err.get("type")}
        )
    return errors


UNSTORABLE_TEXT = frozenset({"22021", "22P05"})
"""PostgreSQL's SQLSTATEs for a NUL character in text (``invalid byte sequence``) and in JSON
(``unsupported Unicode escape sequence``): any string field, id or query value may carry one, and
it is the client's input that cannot be stored, not a fault of the service."""


def _unexpected_response(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", path=request.url.path)
    return problem_response(Problem("An unexpected error occurred."), request)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> Response:
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = _validation_errors(exc)
        fields = ", ".join(e["field"] for e in errors)
        return problem_response(ValidationFailed(f"Invalid {fields}", errors=errors), request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        cls = _STATUS_PROBLEMS.get(exc.status_code)
        problem = cls(str(exc.detail) if exc.detail else None) if cls else HttpProblem(exc)
        return problem_response(problem, request, headers=getattr(exc, "headers", None))

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> Response:
        if getattr(exc.orig, "sqlstate", None) in UNSTORABLE_TEXT:
            detail = "Text may not contain the NUL character (U+0000)."
            return problem_response(ValidationFailed(detail), request)
        return _unexpected_response(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        return _unexpected_response(request, exc)
