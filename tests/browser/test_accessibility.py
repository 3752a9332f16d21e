"""Accessibility locked in: axe-core (bundled by axe-playwright-python, no CDN) checks every
page of the app and its main dialogs against WCAG 2.0/2.1 A and AA, in the light and the dark
colour scheme, and the test fails on any violation. Every page is also laid out at 390 px
wide (a phone) with no horizontal scrolling of the document.

The pages come from the URL resolver (as the access matrix walks it), so a new page is
checked without being listed here; docs/accessibility.md lists them for people.
"""

from dataclasses import dataclass

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Page, expect

from crm.reports import REPORTS
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_every_page import NOT_PAGES
from tests.reliability.test_access_matrix import PAGE_GET, REGISTRY, _app_routes
from tests.reliability.world import build_world

AXE = Axe()
WCAG_A_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
PHONE = {"width": 390, "height": 844}
# Not pages a person reads: probes, the benchmark floor, fragments htmx loads into a page
# (checked there: the dashboard's target attainment, the deal page's win probability, an
# organization's timeline, a note put back in place by its edit's Cancel), the JavaScript
# translation catalogue, and the login page (checked signed out).
NOT_READ = {
    "javascript-catalog",
    "crm:note_entry",
    "healthz",
    "readyz",
    "bench_floor",
    "crm:tag_options",
    "crm:organization_timeline",
    "finance:attainment",
    "finance:deal_probability",
    "login",
    "logout",
}


@dataclass(frozen=True)
class Visit:
    """A page to check: its path, its name (the URL's, for screenshots and reports) and who
    opens it (the rep, or the staff auditor for the pages of managers and staff)."""

    path: str
    name: str
    who: str = "rep"


def visits(world) -> list[Visit]:
    """Every page of the app once (the parametrised ones pointed at the seeded world), each
    report tab and both calendar views."""
    found = []
    for name, params in _app_routes():
        if name in NOT_PAGES or name in NOT_READ:
            continue
        label = name.replace(":", "-")
        if params:
            route = REGISTRY[name]
            if route.get != 200:
                continue
            who = "rep" if "rep" in route.audience and "rep" not in route.get_by_role else "staff"
            found.append(Visit(reverse(name, kwargs=route.kwargs(world)), label, who))
        elif name == "health:metrics":
            found.append(Visit(reverse(name), label, "staff"))
        elif PAGE_GET.get(name, 200) == 200:
            found.append(Visit(reverse(name), label))
    calendar = reverse("crm:calendar")
    found += [
        Visit(f"{calendar}?view={view}", f"crm-calendar-{view}") for view in ("week", "month")
    ]
    reports = reverse("crm:reports")
    found += [Visit(f"{reports}?report={report}", f"crm-reports-{report}") for report in REPORTS]
    found.append(Visit("/admin/", "admin-index", "staff"))
    return found


@pytest.fixture
def seeded(team, rep, staff_user):
    """The reliability world (one of every record) and a staff auditor who may also read the
    health metrics."""
    staff_user.user_permissions.add(Permission.objects.get(codename="view_saleshealthmetric"))
    return build_world(team, rep)


def _session_cookie(user, url: str) -> dict:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    return {"name": cookie.key, "value": cookie.value, "url": url}


def _sign_in(page: Page, url: str, users: dict, who: str | None) -> None:
    page.context.clear_cookies()
    if who:
        page.context.add_cookies([_session_cookie(users[who], url)])


def _violations(page: Page) -> list[str]:
    page.wait_for_load_state("networkidle")
    results = AXE.run(page, options=WCAG_A_AA).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in results
    ]


def test_axe_reports_what_it_finds(page):
    """The check can fail: axe is injected and reports a low-contrast text and an image
    without a text alternative (were it not run, every page would pass unseen)."""
    page.set_content(
        '<html lang="en"><head><title>Bad</title></head><body><main>'
        '<p style="color:#999;background:#fff">Faint</p><img src="data:,">'
        "</main></body></html>"
    )
    found = " ".join(_violations(page))
    assert "color-contrast" in found and "image-alt" in found, found


def _open_dialogs(page: Page, url: str, world) -> dict[str, list[str]]:
    """The main dialogs opened as a person opens them, each checked while open."""
    found = {}
    page.goto(url + reverse("crm:contact_detail", args=[world.contact.pk]))
    page.get_by_role("link", name="Schedule meeting").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    found["schedule-meeting"] = _violations(page)
    page.keyboard.press("Escape")

    page.goto(url + reverse("crm:deal_detail", args=[world.deal.pk]))
    page.locator("summary", has_text="Add a next step").click()
    expect(page.get_by_role("button", name="Add next step")).to_be_visible()
    found["task-and-note-forms"] = _violations(page)

    page.goto(url + reverse("crm:deal_list"))
    page.locator("input[type=checkbox][name=ids]").first.check()
    expect(page.locator("[data-bulk-count]")).to_have_text("1")
    found["bulk-actions"] = _violations(page)
    return found


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.django_db(transaction=True)
def test_every_page_and_dialog_has_no_wcag_aa_violation(
    scheme, browser, live_server, seeded, rep, staff_user
):
    context = browser.new_context(color_scheme=scheme)
    page = context.new_page()
    users = {"rep": rep, "staff": staff_user}
    pages = visits(seeded)
    assert len(pages) >= 45
    problems = {}
    _sign_in(page, live_server.url, users, None)
    page.goto(live_server.url + reverse("login"))
    problems["login"] = _violations(page)
    signed_in = None
    for visit in pages:
        if visit.who != signed_in:
            _sign_in(page, live_server.url, users, visit.who)
            signed_in = visit.who
        response = page.goto(live_server.url + visit.path)
        assert response.status == 200, visit
        problems[visit.name] = _violations(page)
    _sign_in(page, live_server.url, users, "rep")
    problems.update(_open_dialogs(page, live_server.url, seeded))
    context.close()
    problems = {where: found for where, found in problems.items() if found}
    assert not problems, "\n".join(f"{where}: {found}" for where, found in problems.items())


@pytest.mark.django_db(transaction=True)
def test_every_page_fits_a_phone_without_sideways_scrolling(
    browser, live_server, seeded, rep, staff_user
):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    users = {"rep": rep, "staff": staff_user}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    too_wide, signed_in = {}, None
    for visit in visits(seeded):
        if visit.who != signed_in:
            _sign_in(page, live_server.url, users, visit.who)
            signed_in = visit.who
        page.goto(live_server.url + visit.path)
        page.wait_for_load_state("networkidle")  # what htmx loads into the page too
        width = page.evaluate("document.scrollingElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide[visit.name] = width
        page.screenshot(path=SCREENSHOTS / f"phone-{visit.name}.png", full_page=True)
    context.close()
    assert not too_wide, too_wide


@pytest.mark.django_db(transaction=True)
def test_a_persons_colour_scheme_overrides_the_devices(browser, live_server, seeded, rep):
    """Dark chosen in one's settings wins over a light device, light over a dark one, and
    "auto" follows the device: the page's canvas and ink change with it."""
    dark_canvas, light_canvas = "rgb(13, 17, 23)", "rgb(244, 246, 248)"
    path = reverse("finance:detail", args=[seeded.forecast.pk])
    seen = {}
    cases = [("dark", "light"), ("light", "dark"), ("auto", "dark"), ("auto", "light")]
    for chosen, device in cases:
        rep.color_scheme = chosen
        rep.save(update_fields=["color_scheme"])
        context = browser.new_context(color_scheme=device)
        page = context.new_page()
        _sign_in(page, live_server.url, {"rep": rep}, "rep")
        page.goto(live_server.url + path)
        expect(page.locator("html")).to_have_attribute("data-color-scheme", chosen)
        seen[chosen, device] = page.evaluate(
            "getComputedStyle(document.documentElement).backgroundColor"
        )
        if chosen == "dark":
            expect(page.locator("#forecast-chart")).to_have_attribute("data-ready", "true")
            page.screenshot(path=SCREENSHOTS / "forecast-dark.png", full_page=True)
        context.close()
    assert seen == {
        ("dark", "light"): dark_canvas,
        ("light", "dark"): light_canvas,
        ("auto", "dark"): dark_canvas,
        ("auto", "light"): light_canvas,
    }
