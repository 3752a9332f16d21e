from django.apps import AppConfig


class CoopConfig(AppConfig):
    name = "coop"
    verbose_name = "Co-op"

    def ready(self) -> None:
        from django.core.signals import got_request_exception

        from coop.observability import report_exception

        got_request_exception.connect(report_exception, dispatch_uid="coop.report_exception")
