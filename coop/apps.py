from django.apps import AppConfig


class CoopConfig(AppConfig):
    name = "coop"
    verbose_name = "Co-op"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.core.signals import got_request_exception, request_finished

        from coop.middleware import stamp_session_activity
        from coop.observability import forget_request_id, report_exception

        got_request_exception.connect(report_exception, dispatch_uid="coop.report_exception")
        request_finished.connect(forget_request_id, dispatch_uid="coop.forget_request_id")
        user_logged_in.connect(stamp_session_activity, dispatch_uid="coop.stamp_session_activity")
