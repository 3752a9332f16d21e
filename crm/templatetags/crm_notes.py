from django import template
from django.utils.safestring import SafeString

from crm.notes import note_html as render_note

register = template.Library()


@register.filter
def note_html(body: str, members=frozenset()) -> SafeString:
    """A note's Markdown as sanitised HTML (`crm.notes.note_html`), the @mentions of
    `members` (lower-case usernames) highlighted."""
    return render_note(body, members or frozenset())
