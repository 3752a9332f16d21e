"""The translation catalogues: update them from the source, and check them.

Each app keeps its catalogues in <app>/locale/<lang>/LC_MESSAGES/django.po; what belongs to
no app (templates/, config/, and static/js/ in the "djangojs" domain) is in locale/ at the
top (settings.LOCALE_PATHS). `update` runs Django's `makemessages` (GNU gettext's xgettext
and msgmerge) for every catalogue; `check` runs it on a copy of the project and reports, per
catalogue, what is stale (a string of the source missing from it, or one it has that the
source no longer has), untranslated or fuzzy, and what `msgfmt --check` refuses.

    .venv/bin/python scripts/messages.py update      # after adding or changing strings
    .venv/bin/python scripts/messages.py check       # what CI runs (tests/i18n)

An app without a locale/ folder is left out of the extraction (its strings would otherwise land
in the top catalogue); `check` reports it as having no catalogue.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("es", "fr", "de")
APPS = ("coop", "calendar_app", "crm", "finance", "health", "integrations")
TOP = "locale"  # the catalogue of templates/, config/ and static/js/
# Two plural forms in each (the glossary of CONTRIBUTING.md); French uses the singular for 0.
# makemessages would copy Django's own (three forms, CLDR's "many" for millions) instead.
PLURAL_FORMS = {
    "es": "nplurals=2; plural=(n != 1);",
    "fr": "nplurals=2; plural=(n > 1);",
    "de": "nplurals=2; plural=(n != 1);",
}
NAMES = {"es": "Spanish", "fr": "French", "de": "German"}
# Header fields that change on every run or hold template placeholders: left out.
DROPPED = {
    "Report-Msgid-Bugs-To",
    "POT-Creation-Date",
    "PO-Revision-Date",
    "Last-Translator",
    "Generated-By",
}
# Never extracted: tests, tooling, and vendored or collected files.
IGNORED = [
    ".venv",
    "node_modules",
    "tests",
    "benchmarks",
    "scripts",
    "docs",
    "staticfiles",
    "media",
    "test-results",
    "static/vendor",
]
COPY_IGNORED = shutil.ignore_patterns(
    ".venv", ".git", "node_modules", "staticfiles", "media", "test-results", "__pycache__",
    "*.mo", "*.sqlite3", ".ruff_cache", ".pytest_cache", ".hypothesis", "screenshots",
)  # fmt: skip


def gettext_available() -> bool:
    return all(shutil.which(tool) for tool in ("xgettext", "msgmerge", "msguniq", "msgfmt"))


def units(root: Path = ROOT) -> list[str]:
    """The catalogue folders: each app's and the top one."""
    return [*APPS, TOP]


def catalogue_path(unit: str, language: str, domain: str = "django", root: Path = ROOT) -> Path:
    folder = root / TOP if unit == TOP else root / unit / "locale"
    return folder / language / "LC_MESSAGES" / f"{domain}.po"


def domains(unit: str) -> tuple[str, ...]:
    return ("django", "djangojs") if unit == TOP else ("django",)


def make_messages(root: Path = ROOT) -> None:
    """Run `makemessages` for every language and domain in `root` (a checkout or a copy)."""
    without_catalogue = [app for app in APPS if not (root / app / "locale").is_dir()]
    (root / TOP).mkdir(exist_ok=True)
    ignore = [option for pattern in IGNORED + without_catalogue for option in ("-i", pattern)]
    languages = [option for language in LANGUAGES for option in ("-l", language)]
    environment = {**os.environ, "DEBUG": "true", "DJANGO_SETTINGS_MODULE": "config.settings"}
    environment.pop("DATABASE_URL", None)
    for domain in ("django", "djangojs"):
        options = ["--no-obsolete", "--add-location=file", "--verbosity=0"]
        subprocess.run(  # noqa: S603 - our own fixed command line, no outside input
            [
                sys.executable,
                "manage.py",
                "makemessages",
                "-d",
                domain,
                *languages,
                *ignore,
                *options,
            ],
            cwd=root,
            env=environment,
            check=True,
        )
    _normalize_all(root)


def normalize_header(path: Path, language: str) -> None:
    """Our header on a catalogue makemessages wrote: the glossary's plural forms, the
    language, no "fuzzy" flag and no template placeholders. Idempotent."""
    text = path.read_text(encoding="utf-8")
    header, separator, body = text.partition("\n\n")
    fields = {
        "Project-Id-Version": "Co-op CRM",
        "Language-Team": NAMES[language],
        "Language": language,
        "Plural-Forms": PLURAL_FORMS[language],
    }
    lines = header.split("\n")
    start = lines.index('msgid ""')
    values = "".join(line[1:-1] for line in lines[start + 2 :] if line.startswith('"'))
    values = values.replace('""', "") if lines[start + 1] == 'msgstr ""' else values
    entries = [entry for entry in values.split("\\n") if entry]
    kept = [entry for entry in entries if entry.split(":", 1)[0] not in fields.keys() | DROPPED]
    kept += [f"{name}: {value}" for name, value in fields.items()]
    new_header = "\n".join(
        [f"# {NAMES[language]} translations of Co-op CRM (CONTRIBUTING.md, \"Translations\").",
         'msgid ""', 'msgstr ""', *(f'"{entry}\\n"' for entry in kept)]
    )  # fmt: skip
    path.write_text(new_header + separator + body, encoding="utf-8")


def _normalize_all(root: Path) -> None:
    for unit in units(root):
        for language in LANGUAGES:
            for domain in domains(unit):
                path = catalogue_path(unit, language, domain, root)
                if path.exists():
                    normalize_header(path, language)


def _entries(path: Path) -> dict:
    with path.open("rb") as source:
        catalog = read_po(source)
    return {(message.context, message.id): message for message in catalog if message.id}


@dataclass
class Report:
    unit: str
    problems: list[str] = field(default_factory=list)


def problems_in(path: Path, name: str) -> list[str]:
    """Untranslated and fuzzy entries of one catalogue, and what msgfmt --check refuses."""
    found = []
    for (_context, msgid), message in _entries(path).items():
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        label = msgid[0] if isinstance(msgid, tuple) else msgid
        if message.fuzzy:
            found.append(f"{name}: fuzzy: {label!r}")
        elif not all(strings):
            found.append(f"{name}: untranslated: {label!r}")
    if shutil.which("msgfmt"):
        # A fixed command on our own file; GNU gettext's msgfmt from PATH, as CI installs it.
        command = ["msgfmt", "--check", "--statistics", "-o", os.devnull, str(path)]
        result = subprocess.run(  # noqa: S603
            command,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            found.append(f"{name}: msgfmt --check: {result.stderr.strip()}")
    return found


def check(root: Path = ROOT) -> list[Report]:
    """Per catalogue folder, what is wrong: stale against the source (extracted again into a
    copy of `root`), untranslated, fuzzy or refused by msgfmt. Needs GNU gettext."""
    reports = {unit: Report(unit) for unit in units(root)}
    with tempfile.TemporaryDirectory(prefix="coop-messages-") as temporary:
        copy = Path(temporary) / "project"
        shutil.copytree(root, copy, ignore=COPY_IGNORED, symlinks=True)
        make_messages(copy)
        for unit, report in reports.items():
            if unit != TOP and not (root / unit / "locale").is_dir():
                report.problems.append(f"{unit}: no catalogue ({unit}/locale/ is missing)")
                continue
            for language in LANGUAGES:
                for domain in domains(unit):
                    committed = catalogue_path(unit, language, domain, root)
                    fresh = catalogue_path(unit, language, domain, copy)
                    if not committed.exists():
                        if fresh.exists() and _entries(fresh):
                            report.problems.append(f"{committed}: missing")
                        continue
                    wanted = set(_entries(fresh)) if fresh.exists() else set()
                    have = set(_entries(committed))
                    name = committed.relative_to(root)
                    for _context, msgid in sorted(wanted - have, key=str):
                        report.problems.append(f"{name}: stale, not in the catalogue: {msgid!r}")
                    for _context, msgid in sorted(have - wanted, key=str):
                        report.problems.append(f"{name}: stale, no longer in the source: {msgid!r}")
                    report.problems.extend(problems_in(committed, str(name)))
    return list(reports.values())


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in ("update", "check"):
        print(__doc__)
        return 2
    if not gettext_available():
        print("GNU gettext is needed (xgettext, msgmerge): apt-get install gettext")
        return 1
    if argv[0] == "update":
        make_messages()
        print("Catalogues updated: translate the new entries (empty msgstr or fuzzy).")
        return 0
    failing = 0
    for report in check():
        status = "incomplete" if report.problems else "ok"
        print(f"{report.unit}: {status}")
        for problem in report.problems:
            print(f"  {problem}")
        failing += bool(report.problems)
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
