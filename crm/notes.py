"""Notes on contacts, organizations and deals: Markdown, rendered safely, with @mentions.

Rendering (`note_html`): markdown-it-py in CommonMark mode with raw HTML off (an `<script>`
typed in a note is shown as text), then nh3 (the Ammonia sanitiser) keeps only the tags and
attributes of `ALLOWED_TAGS` and http, https and mailto links, which open with
`rel="noopener noreferrer nofollow"`. Both steps run on every render, so a change of rules
applies to old notes too.

Mentions: `@username` of an active member of the record's team notifies them once per note
(`NoteMention` remembers who was told), on creation and on an edit that adds them; the author
is never told of their own mention. Only the author edits or deletes a note.
"""

import re
import unicodedata

import nh3
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.formats import number_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml

from calendar_app.models import Notification
from calendar_app.services import notifications_send
from coop.i18n import in_language_of
from coop.models import Membership, User
from coop.visibility import can_see_team
from crm.activity import deal_activity_refresh, deal_activity_touch
from crm.models import Deal, Note, NoteMention
from crm.next_steps import (
    Record,
    record_link,
    record_team_id,
    record_url,
    require_record_visible,
)

MAX_NOTE_LENGTH = 20_000
MAX_MENTIONS = 20
ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li",
    "a", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
    "mark",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "mark": {"class"}}
MENTION = re.compile(r"(?<![\w@])@([\w.+-]*\w)")
# Control characters other than line breaks and tabs (a NUL breaks PostgreSQL's text).
_ALLOWED_CONTROLS = {"\n", "\r", "\t"}

_markdown = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def _text_with_mentions(self, tokens, idx, options, env) -> str:
    """Plain text (never code or a link's address) with the `@username` of each member in
    `env["members"]` (lower-case usernames) marked; everything else escaped as usual."""
    text = tokens[idx].content
    members = env.get("members") or ()
    if not members:
        return escapeHtml(text)
    parts, last = [], 0
    for match in MENTION.finditer(text):
        if match.group(1).lower() not in members:
            continue
        parts.append(escapeHtml(text[last : match.start()]))
        parts.append(f'<mark class="mention">{escapeHtml(match.group(0))}</mark>')
        last = match.end()
    parts.append(escapeHtml(text[last:]))
    return "".join(parts)


_markdown.add_render_rule("text", _text_with_mentions)


def note_html(body: str, members: frozenset[str] | set[str] = frozenset()) -> SafeString:
    """The note's Markdown as sanitised HTML, safe to put in a page; the `@username` of each
    of `members` (the team's lower-case usernames) is highlighted with `<mark>`."""
    html = nh3.clean(
        _markdown.render(body, {"members": members}),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(html)  # noqa: S308 (sanitised by nh3 just above)


def team_usernames(team_id) -> frozenset[str]:
    """The lower-case usernames of the team's active members: the mentions a note marks."""
    return frozenset(
        name.lower()
        for name in User.objects.filter(is_active=True, memberships__team_id=team_id).values_list(
            "username", flat=True
        )
    )


def mentioned_usernames(body: str) -> list[str]:
    """The distinct `@names` in a note, in order, at most MAX_MENTIONS."""
    names: list[str] = []
    for name in MENTION.findall(body):
        if name.lower() not in {known.lower() for known in names}:
            names.append(name)
    return names[:MAX_MENTIONS]


def _clean_body(body: str) -> str:
    body = body.strip()
    if not body:
        raise ValidationError({"body": gettext("Write something in the note.")})
    if len(body) > MAX_NOTE_LENGTH:
        raise ValidationError(
            {
                "body": gettext("Keep a note under %(count)s characters.")
                % {"count": number_format(MAX_NOTE_LENGTH, force_grouping=True)}
            }
        )
    if any(
        unicodedata.category(character) == "Cc" and character not in _ALLOWED_CONTROLS
        for character in body
    ):
        raise ValidationError({"body": gettext("The note holds control characters; remove them.")})
    return body


def _mentioned_members(note: Note) -> list[User]:
    names = mentioned_usernames(note.body)
    if not names:
        return []
    named = Q()
    for name in names:
        named |= Q(user__username__iexact=name)
    memberships = Membership.objects.filter(named, team_id=note.team_id, user__is_active=True)
    return [membership.user for membership in memberships.select_related("user")]


def _notify_mentions(note: Note, record: Record) -> None:
    """Notify the members newly mentioned in the note (each once per note, never the author)."""
    told = set(note.mentions.values_list("user_id", flat=True))
    new = [
        user
        for user in _mentioned_members(note)
        if user.pk not in told and user.pk != note.author_id
    ]
    if not new:
        return
    NoteMention.objects.bulk_create(NoteMention(note=note, user=user) for user in new)
    excerpt = " ".join(note.body.split())[:200]
    notifications = []
    for user in new:
        with in_language_of(user):
            title = gettext("%(author)s mentioned you on %(record)s") % {
                "author": note.author,
                "record": record,
            }
        notifications.append(
            Notification(
                user=user, title=title, body=excerpt, link=f"{record_url(record)}#note-{note.pk}"
            )
        )
    notifications_send(notifications=notifications)


@transaction.atomic
def note_create(*, actor: User, record: Record, body: str) -> Note:
    """Add a note by the actor to a record they see, and notify the team members it
    mentions."""
    require_record_visible(actor, record)
    note = Note.objects.create(
        team_id=record_team_id(record), author=actor, body=_clean_body(body), **record_link(record)
    )
    _notify_mentions(note, record)
    if note.deal_id:
        deal_activity_touch(Deal.objects.filter(pk=note.deal_id), note.created_at)
    return note


def _locked_own(actor: User, note: Note) -> Note:
    locked = (
        Note.objects.select_for_update(no_key=True, of=("self",))
        .select_related("contact", "organization", "deal")
        .filter(pk=note.pk)
        .first()
    )
    if locked is None or not can_see_team(actor, locked.team_id):
        raise ValidationError(gettext("This note does not exist or is not visible to you."))
    if locked.author_id != actor.pk:
        raise ValidationError(gettext("Only the author of a note may change or delete it."))
    return locked


@transaction.atomic
def note_update(*, actor: User, note: Note, body: str) -> Note:
    """Change the author's own note; members it now mentions for the first time are
    notified. Locks the note row."""
    note = _locked_own(actor, note)
    note.body = _clean_body(body)
    note.save(update_fields=["body", "updated_at"])
    _notify_mentions(note, note.record)
    return note


@transaction.atomic
def note_delete(*, actor: User, note: Note) -> None:
    """Delete the author's own note (its mentions go with it). Locks the note row."""
    note = _locked_own(actor, note)
    deal_id = note.deal_id
    note.delete()
    if deal_id:
        deal_activity_refresh(Deal.objects.filter(pk=deal_id))
