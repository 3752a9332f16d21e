"""Imports reject oversized, malformed and unreadable files cleanly: a message, no
traceback, nothing imported. (The project takes no file uploads over HTTP; the exchange-rate
import is its one way in for files.)"""

import pytest
from django.core.management import CommandError, call_command

from coop.spreadsheets import COMMAND_FILE_MAX_BYTES as MAX_FILE_BYTES
from finance.models import ExchangeRate

pytestmark = pytest.mark.django_db

HEADER = b"date,base,quote,rate\n"


def _import(path):
    with pytest.raises(CommandError) as refused:
        call_command("import_exchange_rates", str(path))
    assert not ExchangeRate.objects.exists()
    return str(refused.value)


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "rates.csv"
    row = b"2026-01-01,USD,EUR,0.9\n"
    path.write_bytes(HEADER + row * (MAX_FILE_BYTES // len(row) + 1))
    assert "larger than 5 MB" in _import(path)


def test_a_file_just_under_the_limit_is_read(tmp_path):
    path = tmp_path / "rates.csv"
    path.write_bytes(HEADER + b"2026-01-01,USD,EUR,0.9\n" + b" " * (MAX_FILE_BYTES - 100))
    with pytest.raises(CommandError, match="Line"):
        call_command("import_exchange_rates", str(path))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR\xff\xfe", "not UTF-8"),
        (HEADER + b"2026-01-01,USD,EUR,0.9\x00\n", "Line 2"),
        (HEADER + b'"2026-01-01,USD,EUR,0.9\n', "Line 2"),
        (b"", "header"),
        (HEADER, "no rates"),
        (HEADER + b"2026-01-01,USD,EUR,1e999999\n", "Line 2"),
        (b"=cmd|' /C calc'!A0,base,quote,rate\n", "header"),
    ],
)
def test_malformed_files_are_refused_with_a_message(tmp_path, content, message):
    path = tmp_path / "rates.csv"
    path.write_bytes(content)
    assert message in _import(path)


def test_a_directory_or_missing_file_is_refused(tmp_path):
    assert "No file" in _import(tmp_path)
    assert "No file" in _import(tmp_path / "missing.csv")
