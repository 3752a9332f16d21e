from django.apps import AppConfig
from django.db.models.signals import pre_delete


def _erase_shared_data(sender, instance, **kwargs) -> None:
    """Deleting an account leaves records that outlive it (a deal's owner becomes NULL): clear
    what was shared under any consent purpose first."""
    from coop.consent import shared_data_erase

    shared_data_erase(user=instance)


class CoopConfig(AppConfig):
    name = "coop"
    verbose_name = "Co-op"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.core.signals import got_request_exception, request_finished

        from coop import page_cache, writes
        from coop.middleware import stamp_session_activity
        from coop.models import User
        from coop.observability import forget_request_id, report_exception

        pre_delete.connect(_erase_shared_data, sender=User, dispatch_uid="coop-erase-shared-data")

        got_request_exception.connect(report_exception, dispatch_uid="coop.report_exception")
        request_finished.connect(forget_request_id, dispatch_uid="coop.forget_request_id")
        user_logged_in.connect(stamp_session_activity, dispatch_uid="coop.stamp_session_activity")
        # Every connection's writes are watched (coop/writes.py); the cached pages' first.
        writes.connect()
        page_cache.connect()
