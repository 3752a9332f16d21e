"""Explicit permissions for reading other people's health data.

Superusers do not get these implicitly: a staff member must be given the permission (directly
or through a group) on purpose, so reading someone's health data is always a recorded decision.
"""

from django.contrib.auth.models import Permission
from django.db.models import Q

from coop.models import User

READ_CHECKINS = ("health", "read_checkins")
VIEW_SALES_HEALTH_METRICS = ("health", "view_saleshealthmetric")
VIEW_TEAM_INSIGHTS = ("health", "view_team_insights")


def holds_explicitly(user: User, permission: tuple[str, str]) -> bool:
    """Whether an active staff user was given `permission` directly or through a group."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    app_label, codename = permission
    return (
        Permission.objects.filter(content_type__app_label=app_label, codename=codename)
        .filter(Q(user=user) | Q(group__user=user))
        .exists()
    )
