"""Spreadsheet files out and in, shared by the modules that export and import (finance's
forecasts, the CRM's lists).

Out: text that a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage
return) is prefixed with an apostrophe (`neutralise`); files are produced piece by piece while
the rows are read, for a page to stream: a CSV holds one piece of about CHUNK_SIZE in memory,
an XLSX its write-only sheets in temporary files and the zipped workbook in memory only up to
XLSX_IN_MEMORY (then on disk).

In: `unneutralise` takes that apostrophe off again, so what was exported imports unchanged;
`command_csv_text` reads the small CSV files that commands take (exchange rates, targets).
"""

import csv
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from openpyxl import Workbook

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK_SIZE = 64 * 1024
XLSX_IN_MEMORY = 8 * 1024 * 1024


def neutralise(value):
    """Text cells that would start a formula get a leading apostrophe; others pass."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def unneutralise(value: str) -> str:
    """The text `neutralise` was given: a leading apostrophe before a formula start goes."""
    if value.startswith("'") and value[1:].startswith(_FORMULA_STARTS):
        return value[1:]
    return value


class _Echo:
    """A file whose `write` returns its text, so `csv.writer(...).writerow` returns a row."""

    def write(self, text: str) -> str:
        return text


def csv_stream(rows: Iterable[list]) -> Iterator[bytes]:
    """The rows as CSV, formulas neutralised, UTF-8 with a byte order mark (so spreadsheet
    programs read accented names and currency signs right), in pieces of about CHUNK_SIZE
    characters made while `rows` is read."""
    writer = csv.writer(_Echo())
    pieces, size = ["\ufeff"], 0
    for row in rows:
        line = writer.writerow([neutralise(cell) for cell in row])
        pieces.append(line)
        size += len(line)
        if size >= CHUNK_SIZE:
            yield "".join(pieces).encode()
            pieces, size = [], 0
    yield "".join(pieces).encode()


def xlsx_stream(sheets: Iterable[tuple[str, list | None, Iterable[list]]]) -> Iterator[bytes]:
    """A workbook of the sheets (title, header row or None, rows), formulas neutralised, in
    pieces of CHUNK_SIZE bytes."""
    workbook = Workbook(write_only=True)
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(title)
        if header:
            sheet.append(header)
        for row in rows:
            sheet.append([neutralise(cell) for cell in row])
    with tempfile.SpooledTemporaryFile(max_size=XLSX_IN_MEMORY) as file:
        workbook.save(file)
        file.seek(0)
        while chunk := file.read(CHUNK_SIZE):
            yield chunk


# The most a command reads from a small reference file (exchange rates, targets).
COMMAND_FILE_MAX_BYTES = 5 * 1024 * 1024


def command_csv_text(path: Path, max_bytes: int = COMMAND_FILE_MAX_BYTES) -> str:
    """The UTF-8 text (byte-order mark dropped) of a CSV file named on a command line, or a
    `CommandError` that says why it cannot be read and that nothing was imported."""
    try:
        if not path.is_file():
            raise CommandError(_("No file %(path)s.") % {"path": path})
        if path.stat().st_size > max_bytes:
            raise CommandError(
                _("%(path)s is larger than %(size)d MB; split it. Nothing imported.")
                % {"path": path, "size": max_bytes // (1024 * 1024)}
            )
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise CommandError(
            _("%(path)s is not UTF-8 text. Nothing imported.") % {"path": path}
        ) from None
    except OSError as error:
        raise CommandError(
            _("%(path)s cannot be read: %(reason)s.") % {"path": path, "reason": error.strerror}
        ) from None
