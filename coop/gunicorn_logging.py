"""gunicorn's logger (`logger_class` in gunicorn.conf.py) with calendar feed tokens cut out of
its access and error lines (see `coop.log_redaction`)."""

from gunicorn import glogging

from coop.log_redaction import RedactingFilter

_REDACTING_FILTER = RedactingFilter()


class RedactingLogger(glogging.Logger):
    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            # One filter instance: a configuration reload runs this again, and addFilter
            # skips a filter already there.
            log.addFilter(_REDACTING_FILTER)
