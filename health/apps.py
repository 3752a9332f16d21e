from django.apps import AppConfig
from django.db.models.signals import pre_delete


def _erase_shared_health_data(sender, instance, **kwargs) -> None:
    from coop.consent import shared_data_erase

    shared_data_erase(user=instance)


class HealthConfig(AppConfig):
    name = "health"
    verbose_name = "Health"

    def ready(self) -> None:
        from coop.models import User

        # Deleting an account leaves its deals (owner set to NULL): clear their scores first.
        pre_delete.connect(
            _erase_shared_health_data, sender=User, dispatch_uid="health-erase-shared-data"
        )
