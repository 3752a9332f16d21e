"""Background tasks (Django's `django.tasks`). Enqueued from `transaction.on_commit` only."""

from django.tasks import task

from calendar_app.services import reminders_send_due


@task
def send_due_reminders() -> int:
    """Send every reminder that is due now; safe to run concurrently and repeatedly."""
    return reminders_send_due()
