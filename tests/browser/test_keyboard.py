"""Keyboard only: each flow done with Tab, Enter, Space, arrows and Escape, never the mouse,
and the focus always visible. (A date and time field is filled with `fill`, as typing its
digits depends on the browser's locale.) The calendar's keyboard path for moving and
scheduling a meeting is in test_calendar_meetings.py."""

import datetime

import pytest
from playwright.sync_api import Locator, Page, expect

from crm.models import Interaction, Task
from tests.browser.test_accessibility import _sign_in
from tests.crm.factories import ContactFactory, DealFactory, PipelineFactory

pytestmark = pytest.mark.django_db(transaction=True)


def tab_to(page: Page, target: Locator, most: int = 80) -> None:
    """Press Tab until `target` has the focus (it must be reachable by Tab)."""
    for _ in range(most):
        if target.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {target}")


def _contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two computed "rgb(r, g, b)" colours."""

    def luminance(color: str) -> float:
        channels = [int(part) / 255 for part in color[color.index("(") + 1 : -1].split(",")[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted([luminance(first), luminance(second)], reverse=True)
    return (light + 0.05) / (dark + 0.05)


# The focused element's outline and the first opaque background behind it.
FOCUS_STYLE = """element => {
  const style = getComputedStyle(element);
  let behind = element.parentElement;
  while (behind && getComputedStyle(behind).backgroundColor.startsWith("rgba(0, 0, 0, 0")) {
    behind = behind.parentElement;
  }
  return {
    style: style.outlineStyle, width: parseFloat(style.outlineWidth), color: style.outlineColor,
    background: getComputedStyle(behind || document.documentElement).backgroundColor,
  };
}"""


@pytest.fixture
def olga(team, rep):
    return ContactFactory(team=team, owner=rep, name="Olga Ortiz", email="olga@sun.example")


def test_schedule_meeting_dialog_opens_submits_and_closes_with_escape_returning_focus(
    page: Page, live_server, rep, olga, login_as
):
    login_as(rep)
    page.goto(f"{live_server.url}/contacts/{olga.pk}/")
    opener = page.get_by_role("link", name="Schedule meeting")
    tab_to(page, opener)
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Schedule a meeting with Olga Ortiz")
    expect(dialog.get_by_label("Title")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()

    page.keyboard.press("Enter")
    expect(dialog.get_by_label("Title")).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("Roof survey")
    day = datetime.date.today() + datetime.timedelta(days=4)
    tab_to(page, dialog.get_by_label("Start"))
    dialog.get_by_label("Start").fill(f"{day.isoformat()}T11:00")
    tab_to(page, dialog.get_by_label("End"))  # Tab also walks the date and time parts
    dialog.get_by_label("End").fill(f"{day.isoformat()}T12:00")
    tab_to(page, dialog.get_by_role("button", name="Schedule", exact=True))
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("status")).to_contain_text("Meeting “Roof survey” scheduled")
    expect(opener).to_be_focused()
    assert Interaction.objects.filter(contact=olga, summary="Roof survey").exists()


def test_add_a_next_step_and_tick_it_done_by_keyboard(page: Page, live_server, rep, team, olga):
    pipeline = PipelineFactory(team=team)
    deal = DealFactory(pipeline=pipeline, owner=rep, contact=olga, title="Solar roof")
    _sign_in(page, live_server.url, {"rep": rep}, "rep")
    page.goto(f"{live_server.url}/deals/{deal.pk}/")
    tab_to(page, page.locator("summary", has_text="Add a next step"))
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    title = page.get_by_label("Next step", exact=True)
    expect(title).to_be_focused()
    page.keyboard.type("Send the brochure")
    page.keyboard.press("Enter")
    tick = page.get_by_role("checkbox", name="Done: Send the brochure")
    expect(tick).to_be_visible()
    task = Task.objects.get(deal=deal, title="Send the brochure")
    assert task.completed_at is None

    tab_to(page, tick)
    page.keyboard.press("Space")
    expect(page.locator(".task-item.done", has_text="Send the brochure")).to_be_visible()
    task.refresh_from_db()
    assert task.completed_at is not None


def test_move_a_deal_on_the_board_with_arrow_keys_and_enter(
    page: Page, live_server, rep, team, olga
):
    pipeline = PipelineFactory(team=team, name="Sales", currency="EUR")
    deal = DealFactory(pipeline=pipeline, owner=rep, title="Heat pump", value_cents=100_000)
    _sign_in(page, live_server.url, {"rep": rep}, "rep")
    page.goto(f"{live_server.url}/pipelines/{pipeline.pk}/")
    move_to = page.get_by_label("Move Heat pump to")
    tab_to(page, move_to)
    page.keyboard.press("ArrowDown")
    expect(move_to).to_have_value(str(pipeline.stages.order_by("position")[1].pk))
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Move Heat pump")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Moved Heat pump to Proposal.")
    deal.refresh_from_db()
    assert deal.stage.name == "Proposal"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_focus_is_visible_with_enough_contrast(scheme, browser, live_server, rep, olga):
    context = browser.new_context(color_scheme=scheme)
    page = context.new_page()
    _sign_in(page, live_server.url, {"rep": rep}, "rep")
    page.goto(f"{live_server.url}/contacts/")
    seen = []
    for target in (
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Organizations"),
        page.locator("main").get_by_role("link", name="Olga Ortiz"),
        page.locator("main").get_by_role("link", name="New contact"),
    ):
        tab_to(page, target)
        focus = target.evaluate(FOCUS_STYLE)
        seen.append(focus)
        assert focus["style"] == "solid" and focus["width"] >= 2, focus
        assert _contrast(focus["color"], focus["background"]) >= 3, focus
    context.close()
    assert len({focus["background"] for focus in seen}) >= 2  # the header's and the page's
