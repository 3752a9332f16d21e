"""CRM reactions to other modules' changes.

A new team gets the default lost reasons (`team_created`).

Timeline versions (`Contact.timeline_version`, the key of the cached first page in
crm/timeline.py): every saved or deleted interaction, note, task, event or author, whichever
module or the admin wrote it, touches the timelines that show it, after the write and in its
transaction. Writes that send no signals (`QuerySet.update`, `bulk_create`, COPY) call
`contact_timelines_touch` themselves."""

from django.db.models import Q
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save

from calendar_app.models import Event
from coop.models import Team, User
from crm.meeting_scheduling import meeting_interactions_sync
from crm.models import Contact, Deal, Interaction, Note, Organization, Task
from crm.search import search_words_add
from crm.services import contact_timelines_touch, lost_reasons_defaults_create

# The user fields a timeline shows (`str(author)`).
AUTHOR_NAME_FIELDS = frozenset({"display_name", "first_name", "last_name", "username"})


def event_saved(sender, instance: Event, **kwargs) -> None:
    meeting_interactions_sync(event=instance)
    contact_timelines_touch(contacts=Contact.objects.filter(interactions__calendar_event=instance))


def _touch_after_delete(instance, contacts: Q) -> None:
    """The database unlinks or deletes the rows (ON DELETE) in the same statement as the
    instance: find their contacts before, touch them after."""
    instance._timeline_contact_ids = list(
        Contact.objects.filter(contacts).values_list("pk", flat=True).distinct()
    )


def _touch_remembered(sender, instance, **kwargs) -> None:
    contact_timelines_touch(contacts=Contact.objects.filter(pk__in=instance._timeline_contact_ids))


def event_deleting(sender, instance: Event, **kwargs) -> None:
    _touch_after_delete(instance, Q(interactions__calendar_event=instance))


def interaction_moving(sender, instance: Interaction, **kwargs) -> None:
    """An edited entry (the admin may move it to another contact) leaves its old timeline."""
    if not instance._state.adding:
        instance._timeline_old_contact_id = (
            Interaction.objects.filter(pk=instance.pk).values_list("contact_id", flat=True).first()
        )


def interaction_changed(sender, instance: Interaction, **kwargs) -> None:
    old = getattr(instance, "_timeline_old_contact_id", None)
    contact_timelines_touch(contacts=Contact.objects.filter(pk__in={instance.contact_id, old}))


def record_entry_changed(sender, instance: Note | Task, **kwargs) -> None:
    """A note or task on a contact is on its timeline (a task pinned while open)."""
    if instance.contact_id is not None:
        contact_timelines_touch(contacts=Contact.objects.filter(pk=instance.contact_id))


def user_renaming(sender, instance: User, update_fields=None, **kwargs) -> None:
    """Whether the save changes the name on the user's entries (a password change or a login
    must not touch the thousands of timelines a busy author writes on)."""
    instance._timeline_renamed = False
    if instance._state.adding or (
        update_fields is not None and not AUTHOR_NAME_FIELDS & set(update_fields)
    ):
        return
    stored = User.objects.filter(pk=instance.pk).values(*AUTHOR_NAME_FIELDS).first()
    instance._timeline_renamed = stored is not None and any(
        stored[name] != getattr(instance, name) for name in AUTHOR_NAME_FIELDS
    )


def user_saved(sender, instance: User, **kwargs) -> None:
    if instance._timeline_renamed:
        contact_timelines_touch(
            contacts=Contact.objects.filter(
                Q(interactions__author=instance)
                | Q(crm_notes__author=instance)
                | Q(tasks__assignee=instance)
                | Q(tasks__completed_by=instance)
            )
        )


def user_deleting(sender, instance: User, **kwargs) -> None:
    # Their entries lose the author; their meetings are deleted, so entries lose the meeting.
    _touch_after_delete(
        instance,
        Q(interactions__author=instance)
        | Q(interactions__calendar_event__organizer=instance)
        | Q(crm_notes__author=instance)
        | Q(tasks__assignee=instance)
        | Q(tasks__completed_by=instance),
    )


def team_created(sender, instance: Team, created: bool, raw: bool = False, **kwargs) -> None:
    """A new team starts with the default lost reasons, which its managers then edit."""
    if created and not raw:
        lost_reasons_defaults_create(team=instance)


def words_saved(sender, instance, raw: bool = False, **kwargs) -> None:
    """The words of a saved name or title join the search's dictionary (`crm.search`)."""
    if not raw:
        search_words_add([getattr(instance, "title", None) or getattr(instance, "name", "")])


def connect() -> None:
    for model in (Contact, Organization, Deal, Task):
        name = model.__name__.lower()
        post_save.connect(words_saved, sender=model, dispatch_uid=f"crm_search_words_{name}")
    post_save.connect(team_created, sender=Team, dispatch_uid="crm_team_lost_reasons")
    post_save.connect(event_saved, sender=Event, dispatch_uid="crm_meeting_interactions_sync")
    pre_delete.connect(event_deleting, sender=Event, dispatch_uid="crm_timeline_event_deleting")
    post_delete.connect(_touch_remembered, sender=Event, dispatch_uid="crm_timeline_event_deleted")
    pre_save.connect(interaction_moving, sender=Interaction, dispatch_uid="crm_timeline_moving")
    post_save.connect(interaction_changed, sender=Interaction, dispatch_uid="crm_timeline_saved")
    post_delete.connect(
        interaction_changed, sender=Interaction, dispatch_uid="crm_timeline_deleted"
    )
    for model in (Note, Task):
        name = model.__name__.lower()
        post_save.connect(record_entry_changed, sender=model, dispatch_uid=f"crm_timeline_{name}")
        post_delete.connect(
            record_entry_changed, sender=model, dispatch_uid=f"crm_timeline_{name}_deleted"
        )
    pre_save.connect(user_renaming, sender=User, dispatch_uid="crm_timeline_author_renaming")
    post_save.connect(user_saved, sender=User, dispatch_uid="crm_timeline_author_saved")
    pre_delete.connect(user_deleting, sender=User, dispatch_uid="crm_timeline_author_deleting")
    post_delete.connect(_touch_remembered, sender=User, dispatch_uid="crm_timeline_author_deleted")
