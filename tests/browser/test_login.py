from playwright.sync_api import Page, expect

from tests.coop.factories import TEST_PASSWORD


def test_a_person_logs_in_and_sees_the_dashboard(page: Page, live_server, rep, screenshot):
    page.goto(live_server.url + "/")
    expect(page).to_have_url(live_server.url + "/accounts/login/?next=/")
    screenshot("login")
    page.get_by_label("Username").fill("rep")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_text("North")).to_be_visible()
    screenshot("dashboard")


def test_a_wrong_password_keeps_the_person_on_the_login_page(page: Page, live_server, rep):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill("rep")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")


def test_on_a_phone_the_menu_opens_and_logs_out(page: Page, live_server, rep, login_as, screenshot):
    page.set_viewport_size({"width": 390, "height": 844})
    login_as(rep)
    page.goto(live_server.url + "/")
    contacts = page.get_by_role("link", name="Contacts")
    expect(contacts).to_be_hidden()
    menu = page.get_by_role("button", name="Menu")
    menu.click()
    expect(contacts).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "true")
    screenshot("dashboard-phone-menu")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def test_pages_raise_no_csp_violations_or_script_errors(page: Page, live_server, rep, login_as):
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    login_as(rep)
    for path in ["/", "/contacts/", "/calendar/", "/forecasts/", "/wellness/"]:
        page.goto(live_server.url + path)
        expect(page.locator("main h1")).to_be_visible()
    assert page.evaluate("typeof htmx") == "object"
    assert problems == []
