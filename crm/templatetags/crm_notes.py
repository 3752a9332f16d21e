from django import template
from django.utils.safestring import SafeString

from crm.notes import note_html as render_note

register = template.Library()


@register.filter
def note_html(body: str) -> SafeString:
    """A note's Markdown as sanitised HTML (`crm.notes.note_html`)."""
    return render_note(body)
