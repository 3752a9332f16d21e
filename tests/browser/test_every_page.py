"""Every page of the merged app in a real browser, as a signed-in user: each page without
parameters and one of each parametrised page, with no CSP violation, script error or
missing file (the favicon included)."""

import pytest
from django.urls import reverse

from tests.reliability.test_access_matrix import PAGE_GET, REGISTRY, _app_routes
from tests.reliability.world import build_world

# Not pages: downloads (the ICS feed, the forecast and list exports, an import's refused
# rows) and htmx fragments that only ever load into a page (the timeline's infinite scroll,
# the deal form's contact options, the contact form's organization suggestions, the owner
# card of the deal, contact and organization pages, a record's next steps and notes, a
# note's edit form).
NOT_PAGES = {
    "calendar_app:feed",
    "finance:export",
    "crm:contact_timeline",
    "crm:deal_contact_options",
    "crm:organization_options",
    "crm:owner_card",
    "crm:contact_export",
    "crm:organization_export",
    "crm:deal_export",
    "crm:import_errors",
    "crm:record_activity",
    "crm:note_edit",
    "favicon",
}


def _pages(world) -> list[str]:
    paths = []
    for name, params in _app_routes():
        if name in NOT_PAGES:
            continue
        if params:
            route = REGISTRY[name]
            # The rep opens them: pages for managers only are seen in their own tests.
            if route.get == 200 and "rep" in route.audience:
                paths.append(reverse(name, kwargs=route.kwargs(world)))
        elif PAGE_GET.get(name, 200) == 200:
            paths.append(reverse(name))
    return paths


@pytest.mark.django_db(transaction=True)
def test_every_page_loads_without_csp_violations_or_console_errors(
    page, live_server, login_as, team, rep, screenshot
):
    world = build_world(team, rep)
    login_as(rep)
    problems, failed = [], []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "response",
        lambda response: response.status >= 400 and failed.append((response.status, response.url)),
    )
    paths = _pages(world)
    assert len(paths) >= 25
    for path in paths:
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        page.wait_for_load_state("networkidle")
        assert not problems, (path, problems)
        assert not failed, (path, failed)
    page.goto(live_server.url + reverse("crm:deal_detail", args=[world.deal.pk]))
    screenshot("every-page-deal-detail")
    favicon = page.locator("link[rel=icon]").get_attribute("href")
    assert page.request.get(live_server.url + favicon).status == 200
    assert page.request.get(live_server.url + "/favicon.ico").status == 200  # redirected
