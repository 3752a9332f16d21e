"""Compile every translation catalogue (<app>/locale/<lang>/LC_MESSAGES/*.po and locale/...)
into the .mo file Django reads, in pure Python (Babel): no gettext needed on the machine.

The .mo files are build output, never committed (.gitignore). `scripts/bootstrap` runs this,
so `make run` and `make test` work on a fresh machine; the test suite runs it again at start
(tests/conftest.py). A catalogue is compiled only when its .mo is missing or older.
Usage: .venv/bin/python scripts/compile_messages.py
"""

import os
import sys
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
SKIPPED = {".venv", "node_modules", ".git", "staticfiles"}


def catalogues(root: Path = ROOT) -> list[Path]:
    """Every .po file of the project's locale folders."""
    found = []
    for directory, folders, files in os.walk(root):
        folders[:] = [name for name in folders if name not in SKIPPED]
        if Path(directory).name == "LC_MESSAGES":
            found.extend(Path(directory) / name for name in files if name.endswith(".po"))
    return sorted(found)


def compile_catalogue(po_path: Path, *, force: bool = False) -> bool:
    """Write po_path's .mo next to it (atomically: parallel test workers may race); whether it
    was written. Fuzzy entries are left out, as msgfmt does."""
    mo_path = po_path.with_suffix(".mo")
    if not force and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
        return False
    with po_path.open("rb") as source:
        catalog = read_po(source, locale=po_path.parent.parent.name)
    handle, temporary = tempfile.mkstemp(dir=po_path.parent, suffix=".mo.tmp")
    try:
        with os.fdopen(handle, "wb") as target:
            write_mo(target, catalog, use_fuzzy=False)
        os.replace(temporary, mo_path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True


def main() -> int:
    written = [path for path in catalogues() if compile_catalogue(path)]
    for path in written:
        print(f"Compiled {path.relative_to(ROOT).with_suffix('.mo')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
