"""`BoundedPaginator` counts no further than a bound past the requested page, and says so;
`path_for_pk` gives the path `reverse()` gives."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from coop.models import User
from coop.pagination import BoundedPaginator
from coop.paths import path_for_pk

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    User.objects.bulk_create(User(username=f"person{i:02d}") for i in range(10))
    return User.objects.filter(username__startswith="person").order_by("username")


def test_a_list_within_the_bound_is_counted_exactly(people):
    paginator = BoundedPaginator(people, 2, page="1", ahead=20)
    assert (paginator.count, paginator.more, paginator.num_pages) == (10, False, 5)


def test_a_list_past_the_bound_says_there_are_more(people):
    paginator = BoundedPaginator(people, 2, page="1", ahead=4)
    assert (paginator.count, paginator.more, paginator.num_pages) == (4, True, 2)
    page = paginator.get_page("1")
    assert page.has_next()
    assert [person.username for person in page] == ["person00", "person01"]


def test_the_bound_moves_with_the_requested_page(people):
    third = BoundedPaginator(people, 2, page="3", ahead=4)
    assert (third.count, third.more) == (8, True)
    page = third.get_page("3")
    assert page.number == 3 and page.has_next()
    assert [person.username for person in page] == ["person04", "person05"]
    last = BoundedPaginator(people, 2, page="5", ahead=4)
    assert (last.count, last.more) == (10, False)
    assert [person.username for person in last.get_page("5")] == ["person08", "person09"]
    assert not last.get_page("5").has_next()


@pytest.mark.parametrize("page", [None, "", "nope", "-3", "0"])
def test_a_page_that_is_no_page_number_counts_from_the_first(people, page):
    paginator = BoundedPaginator(people, 2, page=page, ahead=4)
    assert (paginator.bound, paginator.count) == (4, 4)


def test_a_path_for_a_primary_key_is_the_one_reverse_gives():
    pk = uuid.uuid4()
    assert path_for_pk("crm:contact_detail")(pk) == reverse("crm:contact_detail", args=[pk])
    assert path_for_pk("crm:task_new", "deals")(pk) == reverse("crm:task_new", args=["deals", pk])


def test_a_url_without_a_key_argument_is_refused():
    with pytest.raises(NoReverseMatch):
        path_for_pk("crm:contact_list")


def test_the_count_stops_at_the_bound_in_the_database(people):
    with CaptureQueriesContext(connection) as queries:
        assert BoundedPaginator(people, 2, page="1", ahead=4).count == 4
    (count,) = queries.captured_queries
    assert "COUNT(" in count["sql"] and "LIMIT 5" in count["sql"]


def test_a_huge_page_number_is_the_last_page_not_an_error(people):
    page = "9" * 40
    paginator = BoundedPaginator(people, 2, page=page, ahead=4)
    assert paginator.count == 10
    assert [person.username for person in paginator.get_page(page)] == ["person08", "person09"]
