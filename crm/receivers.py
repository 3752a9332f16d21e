"""CRM reactions to other modules' changes."""

from django.db.models.signals import post_save

from calendar_app.models import Event
from crm.services import meeting_interactions_sync


def event_saved(sender, instance: Event, **kwargs) -> None:
    meeting_interactions_sync(event=instance)


def connect() -> None:
    post_save.connect(event_saved, sender=Event, dispatch_uid="crm_meeting_interactions_sync")
