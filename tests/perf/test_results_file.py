"""`benchmarks/RESULTS.md` is written section by section: a benchmark command replaces its own
section, keeps every other one, and heads it with the machine, the load and the commit."""

import re

import pytest

from benchmarks import provenance

TOP = "# Benchmark results (latest `make bench`)"
LOAD = "## Load test (latest `make loadtest`)"


@pytest.fixture
def results(tmp_path, monkeypatch):
    path = tmp_path / "RESULTS.md"
    path.write_text(
        f"{TOP}\n\nold table\n\n## A note\n\nkept words\n\n### Its subsection\n\nkept too\n"
    )
    monkeypatch.setattr(provenance, "RESULTS", path)
    return path


def test_the_bench_table_is_replaced_and_the_notes_are_kept(results):
    provenance.replace_section(TOP, "new table", first=True)
    text = results.read_text()
    assert "new table" in text
    assert "old table" not in text
    assert "kept words" in text
    assert "kept too" in text
    assert text.index("new table") < text.index("## A note")


def test_a_section_is_added_once_then_replaced(results):
    provenance.replace_section(LOAD, "first run")
    provenance.replace_section(LOAD, "second run")
    text = results.read_text()
    assert text.count(LOAD) == 1
    assert "second run" in text
    assert "first run" not in text
    assert "old table" in text
    assert "kept too" in text


def test_the_section_head_names_machine_load_and_commit():
    lines = provenance.provenance_lines(
        before="load average: 0.10", after="load average: 1.50", commit="abc1234+dirty"
    )
    text = "\n".join(lines)
    assert "`abc1234+dirty`" in text
    assert "Load before: `load average: 0.10`" in text
    assert "Load after: `load average: 1.50`" in text
    assert re.search(r"Machine: .*\d+ cores", text)


def test_the_commit_is_this_checkouts():
    commit = provenance.git_commit()
    assert re.fullmatch(r"([0-9a-f]{7,40}(\+dirty)?|unknown)", commit)
