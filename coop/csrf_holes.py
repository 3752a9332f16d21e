"""Markup shared by several viewers (cached board columns, timeline pages) carries a
`CSRF_HOLE` where a form's CSRF field goes; `with_csrf` fills the holes with the viewer's own
field on the way out, so a token is never shared between browsers."""

from django.http import HttpRequest
from django.template.backends.utils import csrf_input
from django.utils.safestring import SafeString, mark_safe

CSRF_HOLE = "<!--csrf-->"


def with_csrf(request: HttpRequest, html: str) -> SafeString:
    """The shared markup with the viewer's CSRF field in its holes."""
    return mark_safe(html.replace(CSRF_HOLE, csrf_input(request)))  # noqa: S308 (our own template)
