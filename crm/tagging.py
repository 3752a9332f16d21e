"""Tags on contacts, organizations and deals: per team, coloured, created as people type them.

A tag belongs to one team and labels only that team's records. People name tags, not pick
them from a fixed list: a name nobody in the team used yet becomes a new tag, with a colour
taken from the name (so the same word keeps its colour), which staff may change in the admin.
Names are compared without regard to case ("Partner" is "partner").

Lists filter by tag *names*, so a person in two teams filters both teams' records by the same
word at once.
"""

import hashlib
from collections.abc import Iterable
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.utils.translation import gettext

from coop.models import User
from coop.validators import require_single_line
from crm.models import Contact, Deal, Organization, Tag, TagColor

TAG_NAME_MAX = 40
# How many tags one action or one list filter takes at most.
TAGS_AT_ONCE = 10

# The record kinds that carry tags, and the path from each to its team.
TAGGABLE: dict[str, type[models.Model]] = {
    "contacts": Contact,
    "organizations": Organization,
    "deals": Deal,
}


def tag_names_clean(names: Iterable[str]) -> list[str]:
    """The names people typed (a list, or commas within one), trimmed, inner spaces
    collapsed, empties dropped, each once whatever its case, in the order typed. Raises
    `ValidationError` for a name too long, spanning lines, or more than TAGS_AT_ONCE."""
    cleaned: dict[str, str] = {}
    for text in names:
        for part in str(text).split(","):
            name = " ".join(part.split())
            if not name:
                continue
            require_single_line(tag_name=name)
            if len(name) > TAG_NAME_MAX:
                raise ValidationError(
                    gettext("A tag name has at most %(count)s characters: “%(name)s…”.")
                    % {"count": TAG_NAME_MAX, "name": name[:TAG_NAME_MAX]}
                )
            cleaned.setdefault(name.casefold(), name)
    if len(cleaned) > TAGS_AT_ONCE:
        raise ValidationError(gettext("At most %(count)s tags at once.") % {"count": TAGS_AT_ONCE})

    return list(cleaned.values())


def tag_color_for(name: str) -> str:
    """The colour a new tag gets: taken from its name, so a word has the same colour in every
    team and after a tag is deleted and made again."""
    digest = hashlib.sha256(name.casefold().encode()).digest()
    colors = [color for color in TagColor.values if color != TagColor.GREY]
    return colors[digest[0] % len(colors)]


def team_tags_get_or_create(*, team_id: UUID, names: list[str]) -> list[Tag]:
    """The team's tags with these (clean) names, creating the missing ones. Runs inside the
    caller's transaction; two people creating the same tag at once get the same row (the
    unique index on the lower-cased name decides, the loser reads the winner's)."""
    if not names:
        return []
    wanted = {name.casefold(): name for name in names}
    existing = _team_tags_named(team_id, wanted)
    missing = [name for key, name in wanted.items() if key not in existing]
    if missing:
        Tag.objects.bulk_create(
            [Tag(team_id=team_id, name=name, color=tag_color_for(name)) for name in missing],
            ignore_conflicts=True,
        )
        existing = _team_tags_named(team_id, wanted)
    return [existing[key] for key in wanted]


def _team_tags_named(team_id: UUID, wanted: dict[str, str]) -> dict[str, Tag]:
    """The team's tags whose lower-cased name is a key of `wanted`, by that key. Compared with
    Python's casefold after the database's lower(): the same for every name people type in
    practice, and a name that differs only there is simply created apart."""
    tags = Tag.objects.annotate(lower_name=Lower("name")).filter(
        team_id=team_id, lower_name__in=[name.lower() for name in wanted.values()]
    )
    return {tag.name.casefold(): tag for tag in tags if tag.name.casefold() in wanted}


def tag_names_visible_to(user: User, *, prefix: str = "", limit: int = 20) -> list[dict]:
    """Distinct tag names (with the colour of one of them) of the user's teams, alphabetical,
    those starting with `prefix` when given: what the tag inputs suggest as people type."""
    tags = Tag.objects.visible_to(user)
    prefix = " ".join(prefix.replace("\x00", "").split())[:TAG_NAME_MAX]
    if prefix:
        tags = tags.filter(name__istartswith=prefix)
    seen: dict[str, dict] = {}
    for name, color in tags.order_by(Lower("name"), "name").values_list("name", "color"):
        seen.setdefault(name.casefold(), {"name": name, "color": color})
        if len(seen) >= limit:
            break
    return list(seen.values())


def filter_by_tags(records: QuerySet, names: list[str]) -> QuerySet:
    """`records` that carry every tag named (case-insensitively), whatever the team."""
    for name in names:
        records = records.filter(tags__name__iexact=name)
    return records
