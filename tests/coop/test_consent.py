import pytest
from django.db import transaction
from django.urls import reverse
from django.utils.html import escape

from coop import consent as consent_module
from coop.consent import (
    PURPOSES,
    consent_grant,
    consent_revoke,
    consenting_user_ids,
    has_consent,
)
from coop.models import (
    AppendOnlyError,
    AuditAction,
    AuditEvent,
    Consent,
    ConsentEvent,
    ConsentScope,
    User,
)

pytestmark = pytest.mark.django_db


def test_every_purpose_is_off_by_default(rep):
    assert not any(has_consent(rep, scope) for scope in ConsentScope)


def test_grant_turns_a_purpose_on_and_logs_who_what_when_which_text_and_how(rep, staff_user):
    assert consent_grant(user=rep, scope=ConsentScope.DEAL_WELLNESS, method="consent page")
    assert has_consent(rep, ConsentScope.DEAL_WELLNESS)
    assert not has_consent(rep, ConsentScope.TEAM_INSIGHTS)
    event = ConsentEvent.objects.get(user=rep)
    assert (event.scope, event.action, event.method) == ("deal_wellness", "grant", "consent page")
    assert event.text_version == PURPOSES[ConsentScope.DEAL_WELLNESS].version
    assert event.actor == rep
    assert event.at is not None
    consent_revoke(user=rep, scope=ConsentScope.DEAL_WELLNESS, actor=staff_user, method="admin")
    revoked = ConsentEvent.objects.filter(user=rep).latest("at")
    assert (revoked.action, revoked.actor, revoked.method) == ("revoke", staff_user, "admin")


def test_granting_twice_logs_once_and_revoking_what_was_never_granted_logs_nothing(rep):
    assert consent_grant(user=rep, scope=ConsentScope.TEAM_INSIGHTS)
    assert not consent_grant(user=rep, scope=ConsentScope.TEAM_INSIGHTS)
    assert not consent_revoke(user=rep, scope=ConsentScope.DEAL_WELLNESS)
    assert ConsentEvent.objects.filter(user=rep).count() == 1


def test_grants_and_withdrawals_also_go_to_the_audit_log(rep):
    consent_grant(user=rep, scope=ConsentScope.TEAM_INSIGHTS)
    consent_grant(user=rep, scope=ConsentScope.TEAM_INSIGHTS)
    consent_revoke(user=rep, scope=ConsentScope.TEAM_INSIGHTS)
    entries = AuditEvent.objects.order_by("occurred_at")
    assert [(entry.action, entry.actor_name) for entry in entries] == [
        (AuditAction.CONSENT_GRANTED, "rep"),
        (AuditAction.CONSENT_REVOKED, "rep"),
    ]
    assert entries[0].detail == {"user": "rep", "scope": "team_insights", "method": "consent page"}


def test_unknown_scope_is_refused(rep):
    with pytest.raises(ValueError):
        consent_grant(user=rep, scope="sell_my_data")
    assert not Consent.objects.exists()


def test_the_consent_log_cannot_be_changed_or_deleted(rep):
    consent_grant(user=rep, scope=ConsentScope.TEAM_INSIGHTS)
    event = ConsentEvent.objects.get()
    event.method = "forged"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        ConsentEvent.objects.update(method="forged")
    with pytest.raises(AppendOnlyError):
        ConsentEvent.objects.all().delete()
    assert ConsentEvent.objects.get().method == "consent page"


def test_erasing_the_account_erases_its_consents_and_log(rep):
    consent_grant(user=rep, scope=ConsentScope.TEAM_INSIGHTS)
    consent_revoke(user=rep, scope=ConsentScope.TEAM_INSIGHTS)
    User.objects.filter(pk=rep.pk).delete()
    assert not ConsentEvent.objects.exists()
    assert not Consent.objects.exists()


def test_inactive_users_never_count_as_consenting(rep):
    consent_grant(user=rep, scope=ConsentScope.TEAM_INSIGHTS)
    rep.is_active = False
    rep.save()
    assert not has_consent(rep, ConsentScope.TEAM_INSIGHTS)
    assert consenting_user_ids(ConsentScope.TEAM_INSIGHTS) == set()


def test_a_failing_clean_up_undoes_the_withdrawal(rep, monkeypatch):
    consent_grant(user=rep, scope=ConsentScope.TEAM_INSIGHTS)

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setitem(consent_module._withdrawal_handlers, ConsentScope.TEAM_INSIGHTS, [broken])
    with pytest.raises(RuntimeError), transaction.atomic():
        consent_revoke(user=rep, scope=ConsentScope.TEAM_INSIGHTS)
    assert has_consent(rep, ConsentScope.TEAM_INSIGHTS)
    assert ConsentEvent.objects.filter(action="revoke").count() == 0


# The consent page


def test_consent_page_says_what_each_purpose_shares_and_with_whom(rep_client):
    page = rep_client.get(reverse("health:consent")).text
    for scope, purpose in PURPOSES.items():
        assert str(scope.label) in page
        for text in (purpose.shares, purpose.with_whom, purpose.on_withdrawal):
            assert escape(text) in page
    assert page.count("Not allowed") == len(PURPOSES)
    assert "Saying no changes nothing else" in page


def test_allow_and_withdraw_buttons_look_the_same_no_nudging(rep_client, rep):
    page = rep_client.get(reverse("health:consent")).text
    assert 'class="button primary"' not in page
    consent_grant(user=rep, scope=ConsentScope.TEAM_INSIGHTS)
    page = rep_client.get(reverse("health:consent")).text
    assert 'class="button" aria-describedby="purpose-team_insights">Withdraw</button>' in page
    assert 'class="button" aria-describedby="purpose-deal_wellness">Allow</button>' in page


def test_the_page_grants_and_withdraws_and_shows_the_history(rep_client, rep):
    url = reverse("health:consent")
    response = rep_client.post(url, {"scope": "team_insights", "action": "grant"}, follow=True)
    assert has_consent(rep, ConsentScope.TEAM_INSIGHTS)
    assert "Allowed: Include me in team wellness insights." in response.text
    response = rep_client.post(url, {"scope": "team_insights", "action": "revoke"}, follow=True)
    assert not has_consent(rep, ConsentScope.TEAM_INSIGHTS)
    assert "Withdrawn: Include me in team wellness insights." in response.text
    assert response.text.count("<td>Include me in team wellness insights</td>") == 2


def test_a_forged_choice_changes_nothing_and_says_so(rep_client, rep):
    response = rep_client.post(
        reverse("health:consent"), {"scope": "everything", "action": "grant"}, follow=True
    )
    assert "nothing was changed" in response.text
    assert not Consent.objects.exists()
    assert not ConsentEvent.objects.exists()
