import datetime

from django.tasks.signals import task_enqueued
from django.utils import timezone
from playwright.sync_api import Page, expect

from crm.models import Contact, ImportRun
from tests.crm.factories import ContactFactory, InteractionFactory, OrganizationFactory

CSV = (
    "Nom,Courriel,Téléphone,Société,Remarques\n"
    "Ann Archer,ann@acme.example,+33 1 23,Acme,\n"
    "Bob Baker,not-an-email,,Acme,\n"
    "Cy Cole,cy@acme.example,,Acme,=1+1\n"
)


def test_import_a_csv_with_mapping_preview_a_duplicate_and_an_error_row(
    page: Page, live_server, manager, team, login_as, screenshot, tmp_path
):
    acme = OrganizationFactory(team=team, name="Acme")
    ContactFactory(
        team=team, name="Ann Archer", email="ann@acme.example", phone="", organization=acme
    )
    file = tmp_path / "people.csv"
    file.write_text(CSV, encoding="utf-8")
    login_as(manager)
    page.goto(live_server.url + "/imports/new/")
    page.get_by_label("CSV or XLSX file").set_input_files(str(file))
    page.get_by_label("Fill the record's empty fields").check()
    page.get_by_label("Import the valid rows and give me a file of the others").check()
    page.get_by_role("button", name="Upload and map the columns").click()

    expect(page.get_by_role("heading", name="Map the columns of people.csv")).to_be_visible()
    expect(page.get_by_label("Courriel")).to_have_value("email")
    expect(page.get_by_label("Société")).to_have_value("organization")
    preview = page.locator("table.import-preview")
    expect(preview.get_by_text("Matches a record")).to_have_count(1)
    expect(preview.get_by_text("not an email address")).to_be_visible()
    screenshot("import-mapping")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("import-mapping-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_label("Remarques").select_option("")
    page.get_by_role("button", name="Update the preview").click()
    expect(page.get_by_label("Remarques")).to_have_value("")
    page.get_by_role("button", name="Import", exact=True).click()

    expect(page.get_by_role("heading", name="Import of people.csv")).to_be_visible()
    expect(page.get_by_text("Row 3: email: not an email address")).to_be_visible()
    run = ImportRun.objects.get()
    assert (run.created, run.updated, run.failed) == (1, 1, 1)
    assert Contact.objects.get(name="Ann Archer").phone == "+33 1 23"
    assert Contact.objects.get(name="Cy Cole").notes == ""
    screenshot("import-done")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Undo this import").click()
    expect(page.get_by_text("The import was undone.")).to_be_visible()
    assert Contact.objects.get(name="Ann Archer").phone == ""
    assert not Contact.objects.filter(name="Cy Cole").exists()


def test_export_a_filtered_list_and_reimport_it_with_nothing_changed(
    page: Page, live_server, manager, team, login_as, tmp_path
):
    acme = OrganizationFactory(team=team, name="Acme")
    ContactFactory(team=team, name="Ann", email="ann@acme.example", organization=acme)
    ContactFactory(team=team, name="Bob", email="", phone="+1 555", organization=acme)
    ContactFactory(team=team, name="Zed Other", email="zed@other.example")
    before = sorted(Contact.objects.values_list("name", "email", "phone", "organization", "notes"))
    login_as(manager)
    page.goto(live_server.url + "/contacts/?q=acme")
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    exported = tmp_path / "contacts.csv"
    download.value.save_as(exported)
    assert "Zed Other" not in exported.read_text(encoding="utf-8-sig")

    page.goto(live_server.url + "/imports/new/")
    page.get_by_label("CSV or XLSX file").set_input_files(str(exported))
    page.get_by_role("button", name="Upload and map the columns").click()
    expect(page.locator("table.import-preview").get_by_text("Matches a record")).to_have_count(2)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("heading", name="Import of contacts.csv")).to_be_visible()
    run = ImportRun.objects.get()
    assert (run.rows, run.created, run.updated, run.skipped) == (2, 0, 0, 2)
    after = sorted(Contact.objects.values_list("name", "email", "phone", "organization", "notes"))
    assert after == before


def test_the_organization_page_on_desktop_and_phone(
    page: Page, live_server, rep, team, login_as, screenshot
):
    acme = OrganizationFactory(
        team=team, name="Acme Coop", domain="acme.example", industry="Bakery", size="10-49"
    )
    ann = ContactFactory(team=team, owner=rep, name="Ann Archer", organization=acme)
    InteractionFactory(contact=ann, summary="Called about the roof")
    login_as(rep)
    page.goto(live_server.url + "/organizations/")
    page.get_by_role("link", name="Acme Coop").click()
    expect(page.get_by_role("heading", name="Acme Coop", level=1)).to_be_visible()
    expect(page.get_by_text("Called about the roof")).to_be_visible()
    screenshot("organization-detail")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("organization-detail-phone")
    page.goto(live_server.url + "/contacts/new/")
    page.get_by_role("combobox", name="Organization (optional)").press_sequentially("Acm")
    expect(page.locator("#organization-options option")).to_have_count(1)


def test_the_organization_timeline_shows_older_entries_on_request(
    page: Page, live_server, rep, team, login_as, screenshot
):
    acme = OrganizationFactory(team=team, name="Acme Coop")
    contacts = [ContactFactory(team=team, owner=rep, organization=acme) for _ in range(3)]
    start = timezone.now() - datetime.timedelta(days=60)
    for n in range(25):
        InteractionFactory(
            contact=contacts[n % 3],
            summary=f"Call number {n:02d}",
            timestamp=start + datetime.timedelta(days=n),
        )
    login_as(rep)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + f"/organizations/{acme.pk}/")
    entries = page.locator(".timeline .timeline-entry")
    expect(entries).to_have_count(20)
    expect(page.get_by_text("Call number 04")).to_have_count(0)
    page.get_by_role("button", name="Show older entries").click()
    expect(entries).to_have_count(25)
    expect(page.get_by_text("Call number 00")).to_be_visible()
    expect(page.get_by_role("button", name="Show older entries")).to_have_count(0)
    screenshot("organization-timeline-older-phone")


def test_a_background_import_and_its_undo_show_their_status(
    page: Page, live_server, manager, team, login_as, screenshot, tmp_path, settings, monkeypatch
):
    """A worker elsewhere (here: the test, running what was queued) imports and undoes; the
    page shows the progress, then the result, by itself."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    monkeypatch.setattr("crm.views.imports.BACKGROUND_BYTES", 10)
    monkeypatch.setattr("crm.imports.UNDO_INLINE_RECORDS", 1)
    queued = []

    def remember(sender, task_result, **kwargs):
        queued.append(task_result)

    task_enqueued.connect(remember, weak=False)
    try:
        file = tmp_path / "people.csv"
        file.write_text("Name,Email\nAnn Archer,ann@x.example\nBob Baker,bob@x.example\n")
        login_as(manager)
        page.goto(live_server.url + "/imports/new/")
        page.get_by_label("CSV or XLSX file").set_input_files(str(file))
        page.get_by_role("button", name="Upload and map the columns").click()
        page.get_by_role("button", name="Import", exact=True).click()
        expect(page.get_by_role("heading", name="Importing…")).to_be_visible()
        expect(page.locator("#import-progress")).to_be_visible()
        page.set_viewport_size({"width": 390, "height": 844})
        screenshot("import-running-phone")

        job = queued.pop()
        job.task.call(*job.args, **job.kwargs)
        expect(page.get_by_role("heading", name="Imported")).to_be_visible(timeout=10_000)
        assert Contact.objects.count() == 2

        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Undo this import").click()
        expect(page.get_by_text("The import is being undone in the background.")).to_be_visible()
        expect(page.get_by_role("heading", name="Undoing…")).to_be_visible()
        screenshot("import-undoing-phone")
        job = queued.pop()
        job.task.call(*job.args, **job.kwargs)
        expect(page.get_by_role("heading", name="Undone")).to_be_visible(timeout=10_000)
        assert not Contact.objects.exists()
    finally:
        task_enqueued.disconnect(remember)
