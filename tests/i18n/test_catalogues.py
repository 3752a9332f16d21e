"""The translation catalogues are complete and current: for each app (and the project's own
catalogue of templates/, config/ and static/js/), `makemessages` run again on a copy of the
project finds nothing the catalogue lacks or has in excess, and no entry is untranslated,
fuzzy or refused by `msgfmt --check` (scripts/messages.py). One test per catalogue, so an
incomplete app is named. Needs GNU gettext (CI installs it); skipped without it elsewhere."""

import os
import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from scripts import messages

pytestmark = pytest.mark.skipif(
    not messages.gettext_available() and not os.environ.get("CI"),
    reason="GNU gettext is not installed (apt-get install gettext); CI runs this",
)


@pytest.fixture(scope="module")
def reports():
    return {report.unit: report for report in messages.check()}


@pytest.mark.parametrize("unit", messages.units())
def test_the_catalogue_is_complete_and_current(reports, unit):
    problems = reports[unit].problems
    assert not problems, f"{len(problems)} problems in {unit}:\n" + "\n".join(problems)


def _catalogue_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(messages.ROOT, copy, ignore=messages.COPY_IGNORED, symlinks=True)
    return copy


def test_the_check_names_a_new_string_an_untranslated_entry_and_a_fuzzy_one(tmp_path):
    copy = _catalogue_copy(tmp_path)
    view = copy / "coop" / "views.py"
    view.write_text(
        view.read_text(encoding="utf-8")
        + '\n\ndef _unmarked_in_catalogue():\n    return _("A string no catalogue has")\n',
        encoding="utf-8",
    )
    german = messages.catalogue_path("integrations", "de", root=copy)
    text = german.read_text(encoding="utf-8")
    text = text.replace('msgstr "Unbekanntes Format."', 'msgstr ""')
    text = text.replace('msgid "No such contact."', '#, fuzzy\nmsgid "No such contact."')
    german.write_text(text, encoding="utf-8")
    reports = {report.unit: report for report in messages.check(copy)}
    coop = "\n".join(reports["coop"].problems)
    integrations = "\n".join(reports["integrations"].problems)
    for language in messages.LANGUAGES:
        assert f"coop/locale/{language}/LC_MESSAGES/django.po: stale" in coop
    assert "A string no catalogue has" in coop
    assert "untranslated: 'Unknown format.'" in integrations
    assert "fuzzy: 'No such contact.'" in integrations
    assert not reports["locale"].problems


def test_the_headers_give_two_plural_forms_french_singular_for_zero():
    for unit in ("coop", "integrations", messages.TOP):
        for language, formula in messages.PLURAL_FORMS.items():
            with messages.catalogue_path(unit, language).open("rb") as source:
                catalog = read_po(source)
            assert catalog.num_plurals == 2
            assert formula in catalog.plural_forms
    assert messages.PLURAL_FORMS["fr"] == "nplurals=2; plural=(n > 1);"
