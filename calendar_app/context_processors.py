from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from calendar_app.selectors import unread_notification_count


def notifications(request: HttpRequest) -> dict:
    """`unread_notifications`: the signed-in user's unread count, queried only when shown."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: unread_notification_count(user))}
