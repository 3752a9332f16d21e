"""Request ids in every log line, slow-query logging and the error-reporting hook.

- `RequestContextMiddleware` takes the caller's `X-Request-ID` (when it is a sane token) or
  makes one, exposes it as `request.request_id`, echoes it in the response header, and
  times every SQL statement of the request: statements slower than `SLOW_QUERY_MS` are
  logged on the `coop.slow_query` logger with their duration and request id.
- `RequestIdFilter` puts the current request id on every log record (`%(request_id)s`), so
  the plain and the JSON formats (`LOG_FORMAT=json`) both carry it.
- `report_exception` is connected to `got_request_exception`: every unhandled exception is
  logged once on `coop.errors` with the request id, method and path, and passed to the
  optional `ERROR_REPORTER` callable (a dotted path in settings) for an external service.
"""

import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string

_request_id: ContextVar[str] = ContextVar("request_id", default="-")
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

slow_query_logger = logging.getLogger("coop.slow_query")
error_logger = logging.getLogger("coop.errors")


def current_request_id() -> str:
    return _request_id.get()


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


class _SlowQueryTimer:
    def __init__(self, threshold_ms: float) -> None:
        self.threshold_ms = threshold_ms

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            if elapsed_ms >= self.threshold_ms:
                slow_query_logger.warning(
                    "slow query %.1f ms on %s: %s",
                    elapsed_ms,
                    context["connection"].alias,
                    sql[:500],
                    extra={"duration_ms": round(elapsed_ms, 1)},
                )


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        # Kept until the request finishes (`forget_request_id`), so Django's own response
        # logging, which runs after the middleware chain, carries it too.
        _request_id.set(request_id)
        timer = _SlowQueryTimer(settings.SLOW_QUERY_MS)
        wrappers = [connections[alias].execute_wrapper(timer) for alias in connections]
        try:
            for wrapper in wrappers:
                wrapper.__enter__()
            response = self.get_response(request)
        finally:
            for wrapper in reversed(wrappers):
                wrapper.__exit__(None, None, None)
        response["X-Request-ID"] = request_id
        return response


def forget_request_id(sender, **kwargs) -> None:
    """`request_finished` receiver: work after the request (commands, tasks) has no id."""
    _request_id.set("-")


def report_exception(sender, request: HttpRequest | None = None, **kwargs) -> None:
    """Log an unhandled exception with its request context and hand it to ERROR_REPORTER."""
    path = request.path if request is not None else "-"
    method = request.method if request is not None else "-"
    error_logger.error("unhandled exception on %s %s", method, path, exc_info=True)
    reporter_path = getattr(settings, "ERROR_REPORTER", "")
    if reporter_path:
        import_string(reporter_path)(request=request)
