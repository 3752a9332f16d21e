"""Every piece of text a person reads in a template is marked for translation.

Each template is read with Django's template Lexer: the text between tags and in the
attributes people read (aria-label, title, placeholder, alt, data-confirm) must hold no
letter outside {% translate %} / {% blocktranslate %} (template tags and variables count as
no text). One test per template folder, so an incomplete app is named."""

import re
from pathlib import Path

import pytest
from django.template.base import Lexer, TokenType

ROOT = Path(__file__).resolve().parent.parent.parent
FOLDERS = {
    "project": ROOT / "templates",
    "calendar_app": ROOT / "calendar_app" / "templates",
    "crm": ROOT / "crm" / "templates",
    "finance": ROOT / "finance" / "templates",
    "health": ROOT / "health" / "templates",
    "integrations": ROOT / "integrations" / "templates",
}
# Attributes whose value a person reads (or hears, from a screen reader).
READ_ATTRIBUTES = {"aria-label", "title", "placeholder", "alt", "data-confirm", "label"}
# Text that is the same in every language: the product's name, file format names and the
# forecast's percentile names (statistical notation).
ALLOWED = {"Co-op CRM", "CSV", "XLSX", "ICS", "JSON", "P10", "P50", "P90", "MAPE"}
OPAQUE = "\x00"  # a template tag or variable: no text of its own
ENTITY = re.compile(r"&#?\w+;")
LETTER = re.compile(r"[^\W\d_]")


def _stream(source: str):
    """(character, line) pairs of the template, each tag or variable as one OPAQUE and the
    content of {% blocktranslate %}...{% endblocktranslate %} left out."""
    skipping = None
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents.split() else ""
            if skipping:
                if name == skipping:
                    skipping = None
                continue
            if name in ("blocktranslate", "blocktrans", "comment", "verbatim"):
                skipping = "end" + name
            yield OPAQUE, token.lineno
        elif skipping or token.token_type == TokenType.COMMENT:
            continue
        elif token.token_type == TokenType.VAR:
            yield OPAQUE, token.lineno
        else:
            line = token.lineno
            for character in token.contents:
                yield character, line
                line += character == "\n"


def untranslated_text(source: str) -> list[tuple[int, str]]:
    """(line, text) of each piece of text with letters outside translation tags."""
    characters = list(_stream(source))
    text = "".join(character for character, _ in characters)
    lines = [line for _, line in characters]
    pieces: list[tuple[int, str]] = []
    position, length = 0, len(text)
    start = 0

    def flush(begin: int, end: int) -> None:
        piece = ENTITY.sub(" ", text[begin:end]).replace(OPAQUE, " ")
        piece = " ".join(piece.split())
        if LETTER.search(piece) and piece not in ALLOWED:
            remaining = piece
            for allowed in ALLOWED:
                remaining = remaining.replace(allowed, " ")
            if LETTER.search(remaining):
                first = begin + len(text[begin:end]) - len(text[begin:end].lstrip())
                pieces.append((lines[min(first, len(lines) - 1)], piece))

    while position < length:
        if text.startswith("<!--", position):
            flush(start, position)
            position = text.find("-->", position)
            position = length if position < 0 else position + 3
            start = position
        elif text[position] == "<" and re.match(r"</?[A-Za-z!]", text[position : position + 3]):
            flush(start, position)
            match = re.match(r"</?([A-Za-z][\w-]*)", text[position:])
            name = match.group(1).lower() if match else ""
            position += match.end() if match else 1
            while position < length and text[position] != ">":
                attribute = re.match(r"\s*([^\s=>/]+)\s*=\s*([\"'])", text[position:])
                if attribute:
                    value_start = position + attribute.end()
                    value_end = text.find(attribute.group(2), value_start)
                    value_end = length if value_end < 0 else value_end
                    if attribute.group(1).lower() in READ_ATTRIBUTES:
                        flush(value_start, value_end)
                    position = value_end + 1
                else:
                    position += 1
            position += 1
            if name in ("script", "style") and text[position - 2 : position] != "/>":
                closing = text.lower().find(f"</{name}", position)
                position = length if closing < 0 else closing
            start = position
        else:
            position += 1
    flush(start, length)
    return pieces


def _templates(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.suffix in (".html", ".txt"))


@pytest.mark.parametrize("folder", list(FOLDERS), ids=list(FOLDERS))
def test_every_text_of_the_templates_is_marked_for_translation(folder):
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for path in _templates(FOLDERS[folder])
        for line, text in untranslated_text(path.read_text(encoding="utf-8"))
    ]
    assert not found, f"{len(found)} texts not marked for translation:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("<h1>Deals</h1>", [(1, "Deals")]),
        ('{% load i18n %}<h1>{% translate "Deals" %}</h1>', []),
        ('<a href="{% url "x" %}" aria-label="Main">{{ name }}</a>', [(1, "Main")]),
        ('<a title="{% translate "Main" %}" class="big">{{ name }}</a>', []),
        ("{% blocktranslate %}Hello {{ name }}{% endblocktranslate %}", []),
        ("<p>\n  {{ count }} deal{{ count|pluralize }}</p>", [(2, "deal")]),
        ("{# a comment #}<!-- and another --><script>let a = 'b';</script>", []),
        ('<input type="hidden" name="next" value="back">', []),
        ("<span>Co-op CRM</span> · <b>P10 \u2013 P90</b>", []),
        ("<p>&nbsp;→ 42 %</p>", []),
    ],
)
def test_the_checker_finds_unmarked_text_and_only_that(source, expected):
    assert untranslated_text(source) == expected
