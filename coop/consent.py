"""Consent to the uses of a person's health data: the one place every module asks.

Health data is special-category data (GDPR Art. 9). Each purpose (`ConsentScope`) is granted
and withdrawn on its own, is off by default, and every grant and withdrawal is appended to
`ConsentEvent` with the version of the text the person was shown (Art. 7(1)). Withdrawing
takes effect at once: `consent_revoke` calls, in the same transaction, the withdrawal handlers
that the modules holding what was shared under the purpose registered, and they remove it
(Art. 7(3)).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from coop.audit import audit_record
from coop.models import (
    AuditAction,
    Consent,
    ConsentAction,
    ConsentEvent,
    ConsentScope,
    User,
)


@dataclass(frozen=True)
class Purpose:
    scope: ConsentScope
    version: str
    shares: str
    with_whom: str
    on_withdrawal: str


# The texts shown on the consent page. Change a text only together with its version: the log
# records which version each person agreed to.
PURPOSES = {
    ConsentScope.DEAL_WELLNESS: Purpose(
        scope=ConsentScope.DEAL_WELLNESS,
        version="2026-11-1",
        shares=(
            "When you close a deal (won or lost), your wellness score of that day (0-100, "
            "from your check-in) is saved on the deal. If you have not checked in that day, "
            "nothing is saved."
        ),
        with_whom=(
            "Everyone who can open the deal: the members of the deal's team and the administrators."
        ),
        on_withdrawal="The scores already saved on your deals are deleted at once.",
    ),
    ConsentScope.TEAM_INSIGHTS: Purpose(
        scope=ConsentScope.TEAM_INSIGHTS,
        version="2026-12-1",
        shares=(
            "Your daily stress level from your check-ins is kept next to your daily sales "
            "figures (interactions, deal velocity, conversion rate). From the day you allow it "
            "on (nothing from before), your weekly stress counts in your team's weekly wellness "
            "figures: the mean stress and how many people were in low, moderate and high bands. "
            "A week is shown only when at least 5 people of the team checked in, and never per "
            "person: no row, chart point or alias of yours appears. If you are in several "
            "teams, you count in the first you joined."
        ),
        with_whom=(
            "The members of your team, on the insights tab of the dashboard, and administrators "
            "who hold a specific permission; every view is recorded. Administrators who hold "
            "another specific permission can read your daily figures."
        ),
        on_withdrawal=(
            "Your daily figures are deleted at once and you count in no new weekly figures. "
            "Weekly figures already shown stay as they are: they are of at least 5 people, and "
            "recomputing them without you would let a comparison reveal yours."
        ),
    ),
    ConsentScope.PERSONAL_RECOMMENDATIONS: Purpose(
        scope=ConsentScope.PERSONAL_RECOMMENDATIONS,
        version="2026-11-1",
        shares=(
            "Your check-ins are compared with your own CRM activity to suggest, for example, a "
            "lighter week when high stress lasts or your interactions spike."
        ),
        with_whom="Only you. Managers and administrators never see your recommendations.",
        on_withdrawal="No recommendations are computed or shown any more.",
    ),
}

# What to remove when a purpose is withdrawn: the modules that hold data shared under a purpose
# register a handler for it when they load (their `AppConfig.ready`), since this module sits
# below them and never imports them. A handler is called with `user=` inside the withdrawal's
# transaction and must remove everything of that person shared under the purpose.
WithdrawalHandler = Callable[..., object]
_withdrawal_handlers: dict[str, list[WithdrawalHandler]] = {
    scope: [] for scope in ConsentScope.values
}


def consent_withdrawal_handler_register(scope: str, handler: WithdrawalHandler) -> None:
    """Have `handler(user=...)` run inside every withdrawal of `scope` (idempotent)."""
    _check_scope(scope)
    if handler not in _withdrawal_handlers[scope]:
        _withdrawal_handlers[scope].append(handler)


def consent_withdrawal_handlers(scope: str) -> tuple[WithdrawalHandler, ...]:
    """The handlers registered for `scope`, in registration order."""
    return tuple(_withdrawal_handlers[scope])


def has_consent(user: User, scope: str, *, for_update: bool = False) -> bool:
    """Whether the user currently allows `scope`. Anonymous or inactive users never do.

    `for_update=True` locks the consent row until the caller's transaction ends, so a
    concurrent withdrawal waits for (and then undoes) what the caller shares under it.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    consents = Consent.objects.filter(user=user, scope=scope)
    if for_update:
        consents = consents.select_for_update(no_key=True)
    return consents.exists()


def consenting_user_ids(scope: str, user_ids: Iterable[UUID] | None = None) -> set[UUID]:
    """Ids of the active users who allow `scope` (among `user_ids` when given). One query."""
    consents = Consent.objects.filter(scope=scope, user__is_active=True)
    if user_ids is not None:
        consents = consents.filter(user_id__in=list(user_ids))
    return set(consents.values_list("user_id", flat=True))


def consent_scopes_of(user: User) -> set[str]:
    """The scopes the user currently allows."""
    return set(Consent.objects.filter(user=user).values_list("scope", flat=True))


def _log(*, user: User, scope: str, action: str, actor: User | None, method: str) -> None:
    """Append the change to the consent log and to the project-wide audit log."""
    event = ConsentEvent.objects.create(
        user=user,
        scope=scope,
        action=action,
        text_version=PURPOSES[scope].version,
        method=method,
        actor=actor or user,
        at=timezone.now(),
    )
    audit_record(
        actor=actor or user,
        action=(
            AuditAction.CONSENT_GRANTED
            if action == ConsentAction.GRANT
            else AuditAction.CONSENT_REVOKED
        ),
        obj=event,
        detail={"user": user.get_username(), "scope": scope, "method": method},
    )


def _check_scope(scope: str) -> None:
    if scope not in ConsentScope.values:
        raise ValueError(f"Unknown consent scope {scope!r}.")


@transaction.atomic
def consent_grant(
    *, user: User, scope: str, actor: User | None = None, method: str = "consent page"
) -> bool:
    """Allow `scope` for the user and log it; return False (and log nothing) if already allowed.

    Locks the user's row (`FOR NO KEY UPDATE`), so a grant and a withdrawal of the same person
    never interleave. What a purpose shares starts from the grant on: nothing is backfilled.
    """
    _check_scope(scope)
    User.objects.select_for_update(no_key=True).filter(pk=user.pk).first()
    if Consent.objects.filter(user=user, scope=scope).exists():
        return False
    Consent.objects.create(
        user=user, scope=scope, text_version=PURPOSES[scope].version, granted_at=timezone.now()
    )
    _log(user=user, scope=scope, action=ConsentAction.GRANT, actor=actor, method=method)
    return True


@transaction.atomic
def consent_revoke(
    *, user: User, scope: str, actor: User | None = None, method: str = "consent page"
) -> bool:
    """Withdraw `scope`, log it and remove everything shared under it, all or nothing.

    Returns False (and logs nothing) if the purpose was not allowed. The registered withdrawal
    handlers run in this transaction, in either case: once it commits, nothing shared under
    the purpose remains.

    Lock order (shared with `integrations.deal_closing.deal_close`): the user's row
    (`FOR NO KEY UPDATE`), then their consent row (deleted), then what the handlers clear.
    """
    _check_scope(scope)
    User.objects.select_for_update(no_key=True).filter(pk=user.pk).first()
    deleted, _ = Consent.objects.filter(user=user, scope=scope).delete()
    if deleted:
        _log(user=user, scope=scope, action=ConsentAction.REVOKE, actor=actor, method=method)
    for handler in consent_withdrawal_handlers(scope):
        handler(user=user)
    return bool(deleted)


@transaction.atomic
def shared_data_erase(*, user: User) -> None:
    """Remove everything shared under any purpose (the account is being erased).

    The consents and their log go with the account (foreign-key cascade); this clears what
    the other modules hold and the database would otherwise keep (a deal outlives its owner).
    """
    for scope in ConsentScope.values:
        for handler in consent_withdrawal_handlers(scope):
            handler(user=user)
