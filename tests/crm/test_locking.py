"""The lock bulk actions and owner reassignment share: the visible records of a selection,
in primary-key order, or the caller's own error and nothing."""

import pytest
from django.core.exceptions import ValidationError

from crm.locking import visible_records_lock
from crm.models import Contact
from tests.crm.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_the_selection_comes_back_in_primary_key_order_with_its_team(team, rep):
    contacts = ContactFactory.create_batch(3, team=team)
    ids = [contact.pk for contact in reversed(contacts)]

    records = visible_records_lock(actor=rep, model=Contact, ids=[*ids, ids[0]], error="no")

    assert [record.pk for record in records] == sorted(ids)
    assert {record.record_team_id for record in records} == {team.pk}


def test_one_record_not_visible_refuses_all_with_the_callers_message(team, rep, foreign_contact):
    mine = ContactFactory(team=team)

    with pytest.raises(ValidationError, match="Not yours"):
        visible_records_lock(
            actor=rep, model=Contact, ids=[mine.pk, foreign_contact.pk], error="Not yours"
        )
