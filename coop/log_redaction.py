"""Keep calendar feed tokens out of every log line.

A feed address (`/calendar/feed/<token>.ics`) is a credential: whoever reads it reads the
person's meetings. Django logs request paths (`Not Found: /calendar/feed/...`, the 500 line,
`coop.errors`, and in JSON the request itself), and gunicorn's access and error logs hold
the request line. Whatever the logger, the token is replaced by `[redacted]` before the line
is written:
- `RedactingFormatter` and `RedactingJsonFormatter` format Django's lines (LOGGING in
  settings), redacting the whole formatted line: message, extra fields and traceback alike;
- `RedactingFilter` is put on gunicorn's loggers (`coop.gunicorn_logging`), whose own
  formatters write the line.
"""

import logging
import re

from pythonjsonlogger.json import JsonFormatter

# The feed's route (calendar_app/urls.py under coop/urls.py): everything after it up to the
# next separator is the token, or whatever stood in its place in a request for a wrong one.
FEED_PATH = re.compile(r"(/calendar/feed/)[^/\s?#\"'<>]+")
REDACTED = r"\1[redacted]"


def redact(text: str) -> str:
    """`text` with the token of every calendar feed address in it replaced."""
    return FEED_PATH.sub(REDACTED, text)


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class RedactingJsonFormatter(JsonFormatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class RedactingFilter(logging.Filter):
    """Redacts a record's message (formatted with its arguments) and its traceback before any
    handler formats it; the record then has no arguments left."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True
