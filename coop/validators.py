"""Single-line text: what forms and services accept in titles, names, places and numbers.

Such a value ends up where a line break changes the meaning: an email's Subject header, an
iCalendar property, a log line. Django refuses to send a header holding a line break
(`BadHeaderError`), so a meeting title with one, once stored, made every email about the
meeting fail. Forms put `validate_single_line` on their single-line fields and the write
services call `require_single_line`, so neither path stores one: control characters
(Unicode category Cc: line feed, carriage return, tab, NUL, escape, DEL, the C1 controls
such as NEL) and the line and paragraph separators U+2028 and U+2029 are refused.
"""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

REFUSED_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})
MESSAGE = _("Use one line of text, without line breaks, tabs or other control characters.")


def is_single_line(value: str) -> bool:
    return not any(unicodedata.category(character) in REFUSED_CATEGORIES for character in value)


def validate_single_line(value: str) -> None:
    """A form field validator: refuses text holding a control character or line separator."""
    if not is_single_line(value):
        raise ValidationError(MESSAGE, code="control_character")


def require_single_line(**fields: str) -> None:
    """For write services: `ValidationError` naming the first of the given fields (keyword =
    field name) whose text holds a control character or line separator. Leading and trailing
    whitespace does not count: the services store the text stripped."""
    for name, value in fields.items():
        if not is_single_line(value.strip()):
            raise ValidationError(
                _(
                    "The %(field)s must be one line of text, without line breaks, tabs or "
                    "other control characters."
                ),
                code="control_character",
                params={"field": name.replace("_", " ")},
            )


def one_line(text: str) -> str:
    """`text` with each run of control characters, line separators and spaces made one
    space: for text stored before these rules that must now fit in one line (a Subject)."""
    return " ".join(
        "".join(
            " " if unicodedata.category(character) in REFUSED_CATEGORIES else character
            for character in text
        ).split()
    )
