"""Background tasks (Django's `django.tasks`). Enqueued from `transaction.on_commit` only, and
retried after transient failures (coop.tasks.with_retries).

Delivery guarantees: reminders are claimed and marked sent before any email leaves, so a
retried reminder run never sends one twice; each notification email is its own task, so a
retry resends only the one that failed; an invitation retry may resend the same invitation,
which calendar programs treat as the same event (same UID and SEQUENCE), not a new one.
"""

from django.tasks import task

from calendar_app import caldav_sync, emails
from calendar_app.services import reminders_send_due
from coop.tasks import with_retries


@task()
@with_retries()
def send_due_reminders() -> int:
    """Send every reminder that is due now; safe to run concurrently and repeatedly."""
    return reminders_send_due()


@task()
@with_retries()
def send_invitations(event_id: str, update: bool = False) -> int:
    """Email the invited contacts the event's current state (.ics REQUEST or CANCEL)."""
    return emails.send_invitations(event_id=event_id, update=update)


@task()
@with_retries()
def send_notification_email(notification_id: str) -> int:
    """Email one in-app notification to its user (when they have an address)."""
    return emails.send_notification_emails(notification_ids=[notification_id])


@task()
@with_retries(retry_on=caldav_sync.RETRIED_ERRORS)
def push_event(event_id: str) -> int:
    """Bring the event's copies on connected calendars up to date; network errors are
    retried with back-off, each failure counting towards its account's stop (a stopped
    account is skipped; its next sync once fixed pushes what is pending)."""
    return caldav_sync.event_push(event_id=event_id)


@task()
@with_retries(retry_on=caldav_sync.RETRIED_ERRORS)
def sync_caldav_account(account_id: str) -> int:
    """Push what is pending and pull what changed for one CalDAV account; network errors
    are retried with back-off, and each failure counts towards the account's stop."""
    return caldav_sync.account_sync(account_id=account_id)
