import pytest
from django.contrib import admin

from coop.models import Membership, Team, User

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", [User, Team, Membership])
def test_core_models_are_in_the_admin_with_search_and_filters(model):
    model_admin = admin.site._registry[model]
    assert model_admin.search_fields
    if model is not Team:
        assert model_admin.list_filter


@pytest.mark.parametrize(
    "url", ["/admin/coop/user/", "/admin/coop/team/", "/admin/coop/membership/"]
)
def test_admin_changelists_search_and_filter(client, staff_user, rep, url):
    client.force_login(staff_user)
    assert client.get(url).status_code == 200
    response = client.get(url, {"q": "rep"})
    assert response.status_code == 200


def test_admin_user_changelist_filters_by_role(client, staff_user, rep, manager):
    client.force_login(staff_user)
    response = client.get("/admin/coop/user/", {"memberships__role": "manager"})
    assert response.status_code == 200
    usernames = [user.username for user in response.context["cl"].result_list]
    assert usernames == ["manager"]
