"""Two-way sync of a person's CalDAV calendars: connect, test, choose, disconnect; push every
meeting they organise or attend to their receiving calendar; pull busy times and the changes
made on their side to the meetings we pushed.

Network calls happen outside transactions; each write is its own outermost durable
transaction. The rules when both sides change a meeting (README "Calendar sync"):

1. Every copy we store remembers its ETag and the state both sides last agreed (times and
   the person's reply). A push sends `If-Match` with that ETag (`If-None-Match: *` for a new
   copy), so a copy edited on the other side is never overwritten unknowingly: the server
   answers 412, and the push first applies the external change, then pushes again with the
   new ETag.
2. The organizer's external change of time, or cancellation (STATUS:CANCELLED or deleting
   the copy), comes back through `event_move` / `event_cancel`, as if made in the app: a new
   SEQUENCE, the invitation update, the timeline entry (`crm.receivers`). A conflict with
   other meetings does not stop it: the person already chose on their side.
3. When both sides changed the time, the change that reaches the CRM last wins: the external
   one, found by the sync or the 412 after the CRM's edit. A cancellation wins over any move,
   from either side. Title, place and description belong to the CRM: an external edit of
   them is overwritten by the next CRM change.
4. An attendee's copy (not the organizer's): their reply (PARTSTAT) updates their RSVP,
   deleting the copy declines; a time they change is not the meeting's and is overwritten by
   the next push. A declined attendee keeps no copy.
5. On the organizer's copy, a guest's PARTSTAT changed by the server (which read the guest's
   emailed reply) updates that guest's RSVP.
"""

import itertools
import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import icalendar
import niquests
import recurring_ical_events
from caldav.lib.url import URL
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext

from calendar_app import crypto, ics
from calendar_app.caldav_client import (
    MULTIGET_BATCH,
    CalDavError,
    CalDavRefused,
    CalDavUnavailable,
    Connection,
    PreconditionFailed,
)
from calendar_app.models import (
    Attendee,
    BusyTime,
    CalDavAccount,
    CalDavStatus,
    Event,
    EventStatus,
    PushedEvent,
    RemoteCalendar,
    Rsvp,
)
from calendar_app.services import attendee_rsvp_set, event_cancel, event_move
from coop.models import User

logger = logging.getLogger("calendar_app.caldav")

# Errors a sync task retries with back-off: the network and the server's 5xx.
RETRIED_ERRORS = (niquests.RequestException, OSError, CalDavUnavailable)
# Busy times are kept for this window around today; meetings are pushed from PUSH_PAST on.
BUSY_PAST, BUSY_FUTURE = timedelta(days=30), timedelta(days=400)
PUSH_PAST = timedelta(days=30)
REENCRYPT_BATCH = 500
# Follow-ups of a listing the server truncated (RFC 6578 §3.6) within one sync.
MAX_LISTING_PAGES = 20
# What a pull learns of a copy (its sequence is only ever set by our own push).
AGREED_FIELDS = ["etag", "start_time", "end_time", "partstat"]


def url_key(url: str) -> str:
    """One spelling per URL, whichever form the server or the library gave it in."""
    return str(URL.objectify(url).canonical())


def _connection(account: CalDavAccount) -> Connection:
    return Connection(
        account.server_url, account.username, crypto.decrypt(account.password_encrypted)
    )


# --- Connecting --------------------------------------------------------------------------


def account_connect(*, user: User, server_url: str, username: str, password: str) -> CalDavAccount:
    """Connect (or reconnect) the user's CalDAV account: discover its calendars first (raises
    `CalDavError` with a message for the person when that fails, storing nothing), then store
    the account with the password encrypted and the calendars, the first one receiving the
    meetings and every one counting as busy until the person chooses. A first sync follows
    the commit."""
    found = Connection(server_url, username, password).calendars()
    if not found:
        raise CalDavError(
            gettext("That account has no calendar yet: make one on the server first.")
        )
    with transaction.atomic(durable=True):
        previous = CalDavAccount.objects.filter(user=user).values("server_url", "username").first()
        account, _ = CalDavAccount.objects.select_for_update(no_key=True).update_or_create(
            user=user,
            defaults={
                "server_url": server_url,
                "username": username,
                "password_encrypted": crypto.encrypt(password),
                "status": CalDavStatus.ACTIVE,
                "failure_count": 0,
                "last_error": "",
                "next_sync_at": timezone.now(),
            },
        )
        if previous and previous != {"server_url": server_url, "username": username}:
            account.copies.all().delete()  # another account: its calendars start afresh
        _calendars_refresh(account, found, default_receiver=found[0].url)
        _enqueue_sync(account)
    return account


def _calendars_refresh(account: CalDavAccount, found, *, default_receiver: str | None = None):
    """Keep the account's calendars equal to the server's list, keeping the choices made."""
    keys = {url_key(info.url): info for info in found}
    account.calendars.exclude(url__in=keys).delete()
    existing = set(account.calendars.values_list("url", flat=True))
    has_receiver = account.calendars.filter(receives_meetings=True).exists()
    for key, info in keys.items():
        if key in existing:
            account.calendars.filter(url=key).update(name=info.name)
            continue
        account.calendars.create(
            url=key,
            name=info.name,
            counts_as_busy=True,
            receives_meetings=not has_receiver and info.url == default_receiver,
        )


def account_test(*, user: User) -> CalDavAccount:
    """Try the stored credentials now. Success clears the error state (a stopped account
    syncs again) and refreshes the list of calendars; a failure is recorded and raised."""
    account = CalDavAccount.objects.get(user=user)
    try:
        found = _connection(account).calendars()
    except (CalDavError, *RETRIED_ERRORS) as error:
        account_failure_record(account_id=account.pk, error=error)
        raise CalDavError(failure_reason(error)) from error
    with transaction.atomic(durable=True):
        account = CalDavAccount.objects.select_for_update(no_key=True).get(pk=account.pk)
        account.status, account.failure_count, account.last_error = CalDavStatus.ACTIVE, 0, ""
        account.next_sync_at = timezone.now()
        account.save(update_fields=["status", "failure_count", "last_error", "next_sync_at"])
        _calendars_refresh(account, found)
        _enqueue_sync(account)
    return account


@transaction.atomic(durable=True)
def account_calendars_choose(
    *, user: User, receiving: UUID | None, busy: Iterable[UUID]
) -> CalDavAccount:
    """Which calendar receives the meetings (or none) and which count as busy. Busy times of
    a calendar that stops counting are dropped at once; a new choice syncs from scratch."""
    account = CalDavAccount.objects.select_for_update(no_key=True).get(user=user)
    calendars = account.calendars.all()
    busy = set(busy)
    known = set(calendars.values_list("pk", flat=True))
    if (receiving is not None and receiving not in known) or not busy <= known:
        raise ValidationError(gettext("Choose among your account's calendars."), code="calendar")
    old_receiver = calendars.filter(receives_meetings=True).values_list("pk", flat=True).first()
    if old_receiver != receiving:
        account.copies.all().delete()  # the meetings go to the new calendar at the next sync
        calendars.update(receives_meetings=False)
        calendars.filter(pk=receiving).update(receives_meetings=True, sync_token="")
    BusyTime.objects.filter(calendar__account=account).exclude(calendar__in=busy).delete()
    calendars.exclude(pk__in=busy).update(counts_as_busy=False)
    calendars.filter(pk__in=busy, counts_as_busy=False).update(counts_as_busy=True, sync_token="")
    _enqueue_sync(account)
    return account


@transaction.atomic(durable=True)
@transaction.atomic
def account_failures_reset(*, account_ids: Iterable[UUID]) -> list[CalDavAccount]:
    """Give these accounts another try now (the admin's "reset failures", once the cause is
    fixed on the server's side): active, no failures, no error; a sync is queued for each
    after the commit. Joins the caller's transaction (the admin action runs in one); locks
    the accounts' rows. Returns them."""
    accounts = list(
        CalDavAccount.objects.select_for_update(no_key=True).filter(pk__in=list(account_ids))
    )
    for account in accounts:
        account.status, account.failure_count, account.last_error = CalDavStatus.ACTIVE, 0, ""
        account.next_sync_at = timezone.now()
        account.save(update_fields=["status", "failure_count", "last_error", "next_sync_at"])
        _enqueue_sync(account)
    return accounts


def account_disconnect(*, user: User) -> None:
    """Forget the account: its encrypted credentials, calendars, busy times and the record of
    pushed copies (the copies stay in the person's calendar, theirs to keep or delete)."""
    CalDavAccount.objects.filter(user=user).delete()


def passwords_reencrypt() -> int:
    """Re-encrypt every stored app password with the newest key (`crypto.rotate`), in
    batches, each its own transaction; returns how many. Idempotent, so safe to re-run after
    an interruption. A password no configured key opens is left alone (its account fails
    with "reconnect")."""
    done = 0
    last = None
    while True:
        with transaction.atomic(durable=True):
            batch = CalDavAccount.objects.select_for_update(no_key=True).order_by("pk")
            if last is not None:
                batch = batch.filter(pk__gt=last)
            batch = list(batch[:REENCRYPT_BATCH])
            if not batch:
                return done
            for account in batch:
                try:
                    account.password_encrypted = crypto.rotate(account.password_encrypted)
                except crypto.InvalidToken:
                    continue
                account.save(update_fields=["password_encrypted"])
                done += 1
            last = batch[-1].pk


def _enqueue_sync(account: CalDavAccount) -> None:
    from calendar_app.tasks import sync_caldav_account

    transaction.on_commit(lambda: sync_caldav_account.enqueue(str(account.pk)))


def failure_reason(error: BaseException) -> str:
    """A failure as the settings page shows it: never the password (it is in no message)."""
    if isinstance(error, CalDavError):
        return str(error)
    if isinstance(error, crypto.InvalidToken):
        return gettext(
            "The stored password cannot be decrypted (encryption key changed): reconnect."
        )
    return gettext("The server could not be reached (%(error)s).") % {
        "error": error.__class__.__name__
    }


def account_failure_record(*, account_id: UUID, error: BaseException) -> CalDavAccount | None:
    """Count one failed sync: `failing`, or `stopped` after `CALDAV_MAX_FAILURES` in a row."""
    with transaction.atomic(durable=True):
        account = CalDavAccount.objects.select_for_update(no_key=True).filter(pk=account_id).first()
        if account is None:
            return None
        account.failure_count += 1
        account.status = (
            CalDavStatus.STOPPED
            if account.failure_count >= settings.CALDAV_MAX_FAILURES
            else CalDavStatus.FAILING
        )
        account.last_error = failure_reason(error)[:500]
        account.next_sync_at = timezone.now() + timedelta(
            minutes=settings.CALDAV_SYNC_INTERVAL_MINUTES
        )
        account.save(update_fields=["failure_count", "status", "last_error", "next_sync_at"])
    logger.warning("caldav account %s failed: %s", account_id, account.last_error)
    return account


# --- Pushing -----------------------------------------------------------------------------


def _accounts_for(event: Event):
    users = Q(user=event.organizer_id) | Q(user__attendances__event=event)
    return (
        CalDavAccount.objects.filter(users, calendars__receives_meetings=True)
        .exclude(status=CalDavStatus.STOPPED)
        .select_related("user")
        .distinct()
    )


def event_push(*, event_id: str) -> int:
    """Push one event to every connected calendar of the people at it; returns how many
    accounts were brought up to date. Each failure counts on its account (stopped after
    `CALDAV_MAX_FAILURES`, the reason on its settings page). When one was a network error it
    is raised once every account was tried, so the task retries with back-off; the accounts
    already up to date send nothing then (their copy has the event's sequence)."""
    event = Event.objects.filter(pk=event_id).select_related("organizer").first()
    if event is None:
        return 0
    done, retried = 0, None
    for account in _accounts_for(event):
        try:
            _push_one(_connection(account), account, event)
        except (CalDavError, crypto.InvalidToken, *RETRIED_ERRORS) as error:
            account_failure_record(account_id=account.pk, error=error)
            if isinstance(error, RETRIED_ERRORS):
                retried = error
        else:
            done += 1
    if retried is not None:
        raise retried
    return done


def _receiver(account: CalDavAccount) -> RemoteCalendar | None:
    return account.calendars.filter(receives_meetings=True).first()


def _own_rsvp(account: CalDavAccount, event: Event) -> str | None:
    """The account owner's reply to the event, None when they organise it or are not at it."""
    if event.organizer_id == account.user_id:
        return None
    return event.attendees.filter(user=account.user_id).values_list("rsvp", flat=True).first()


def _push_one(conn: Connection, account: CalDavAccount, event: Event, *, again: bool = True):
    """Make the account's copy of the event equal to it (create, update or delete)."""
    receiver = _receiver(account)
    if receiver is None:
        return
    copy = PushedEvent.objects.filter(account=account, event=event).first()
    rsvp = _own_rsvp(account, event)
    if event.is_cancelled or rsvp == Rsvp.DECLINED:
        if copy is not None:
            _delete_copy(conn, copy)
        return
    partstat = ics.PARTSTAT.get(rsvp, "") if rsvp else ""
    if copy is not None and copy.sequence == event.sequence and copy.partstat == partstat:
        return
    attendees = list(event.attendees.select_related("user"))
    body = ics.calendar_object(event, attendees)
    href = copy.href if copy else url_key(f"{receiver.url.rstrip('/')}/{event.pk}.ics")
    try:
        etag = conn.put(href, body, etag=copy.etag if copy else None)
    except PreconditionFailed:
        if not again:
            raise
        remote = conn.get(href)
        if copy is None:
            # A copy we had no record of (from an earlier connection): adopt it.
            if remote is not None:
                _copy_save(account, event, href, remote[0], "?")
        else:
            # Changed or deleted over there since our last write: apply that first.
            _apply_remote(account, copy, *(remote or ("", None)))
        event.refresh_from_db()
        return _push_one(conn, account, event, again=False)
    _copy_save(account, event, href, etag, partstat)


def _copy_save(account, event, href: str, etag: str, partstat: str) -> None:
    """Record the copy as both sides now agree on it (partstat "?": unknown, push again)."""
    PushedEvent.objects.update_or_create(
        account=account,
        event=event,
        defaults={
            "href": href,
            "etag": etag,
            "sequence": event.sequence,
            "start_time": event.start_time,
            "end_time": event.end_time,
            "partstat": partstat,
        },
    )


def _delete_copy(conn: Connection, copy: PushedEvent) -> None:
    """Delete the remote copy; a cancellation wins over a change made there meanwhile."""
    try:
        conn.delete(copy.href, etag=copy.etag)
    except PreconditionFailed:
        remote = conn.get(copy.href)
        if remote is not None:
            conn.delete(copy.href, etag=remote[0])
    copy.delete()


# --- Pulling -----------------------------------------------------------------------------


def _aware(value, zone: ZoneInfo) -> datetime:
    """A DTSTART/DTEND value as aware UTC: a date is midnight in the owner's zone, a floating
    time is the owner's wall clock."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, datetime.min.time())
    if timezone.is_naive(value):
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def _parse(text: str) -> icalendar.Calendar | None:
    """The calendar object, or None (logged, skipped) when it is not valid iCalendar: one
    broken object must not stop the sync of the others."""
    try:
        return icalendar.Calendar.from_ical(text)
    except ValueError:
        logger.warning("skipped a calendar object that is not valid iCalendar")
        return None


def _master(calendar: icalendar.Calendar) -> icalendar.Event | None:
    for component in calendar.walk("VEVENT"):
        if "RECURRENCE-ID" not in component:
            return component
    return None


def _times(component: icalendar.Event, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = component.decoded("dtstart")
    if "dtend" in component:
        end = component.decoded("dtend")
    elif "duration" in component:
        end = start + component.decoded("duration")
    else:  # RFC 5545 §3.6.1: a day for a date, an instant for a time
        end = start + timedelta(days=0 if isinstance(start, datetime) else 1)
    return _aware(start, zone), _aware(end, zone)


def _apply_remote(account: CalDavAccount, copy: PushedEvent, etag: str, text: str | None):
    """Apply what the person's calendar says of a copy we pushed (`text` None: deleted),
    following the rules of this module's docstring."""
    user = account.user
    zone = user.zone
    component = None
    if text is not None:
        parsed = _parse(text)
        if parsed is None:
            return
        component = _master(parsed)
    with transaction.atomic(durable=True):
        event = Event.objects.select_related("organizer").get(pk=copy.event_id)
        organizer = event.organizer_id == user.pk
        gone = component is None or str(component.get("status", "")).upper() == "CANCELLED"
        if gone:
            copy.delete()
            if organizer and not event.is_cancelled:
                event_cancel(actor=user, event=event)
            elif not organizer:
                _rsvp(event, user, "DECLINED")
            return
        start, end = _times(component, zone)
        partstats = ics.attendee_partstats(component)
        copy.etag = etag
        moved = (start, end) != (copy.start_time, copy.end_time) and (start, end) != (
            event.start_time,
            event.end_time,
        )
        copy.start_time, copy.end_time = start, end
        if organizer:
            for attendee in event.attendees.select_related("user").exclude(user=user):
                email = attendee.guest_email or (attendee.user and attendee.user.email) or ""
                partstat = partstats.get(email.lower())
                if partstat and ics.RSVP_OF_PARTSTAT.get(partstat, attendee.rsvp) != attendee.rsvp:
                    attendee_rsvp_set(attendee=attendee, rsvp=ics.RSVP_OF_PARTSTAT[partstat])
            copy.save(update_fields=AGREED_FIELDS)
            if moved and not event.is_cancelled:
                try:
                    event_move(
                        actor=user,
                        event=event,
                        start_time=start,
                        end_time=end,
                        allow_conflicts=True,
                    )
                except ValidationError as error:
                    logger.info("external move of %s not applied: %s", event.pk, error.messages)
            return
        own = partstats.get(user.email.lower()) if user.email else None
        if own and own != copy.partstat:
            copy.partstat = own
            _rsvp(event, user, own)
        copy.save(update_fields=AGREED_FIELDS)


def _rsvp(event: Event, user: User, partstat: str) -> None:
    rsvp = ics.RSVP_OF_PARTSTAT.get(partstat)
    attendee = event.attendees.filter(user=user).first()
    if rsvp and attendee is not None:
        attendee_rsvp_set(attendee=attendee, rsvp=rsvp)


def _busy_rows(calendar: RemoteCalendar, href: str, text: str, zone: ZoneInfo, window):
    parsed = _parse(text)
    master = _master(parsed) if parsed is not None else None
    if master is None or ics.event_id_from_uid(str(master.get("uid", ""))):
        return []
    try:
        occurrences = recurring_ical_events.of(parsed).between(*window)
    except (recurring_ical_events.InvalidCalendar, ValueError, KeyError, TypeError):
        logger.warning("skipped a calendar object whose times cannot be read")
        return []
    rows = []
    for occurrence in occurrences:
        if str(occurrence.get("transp", "OPAQUE")).upper() == "TRANSPARENT":
            continue
        if str(occurrence.get("status", "")).upper() == "CANCELLED":
            continue
        start, end = _times(occurrence, zone)
        if end > start:
            rows.append(
                BusyTime(
                    calendar=calendar,
                    user_id=calendar.account.user_id,
                    href=href,
                    start_time=start,
                    end_time=end,
                    summary=str(occurrence.get("summary", ""))[:255],
                )
            )
    return rows


def _busy_replace(calendar: RemoteCalendar, hrefs: list[str], rows: list[BusyTime]) -> None:
    """The busy times of these remote objects become `rows`, in one transaction."""
    if hrefs:
        with transaction.atomic(durable=True):
            calendar.busy_times.filter(href__in=hrefs).delete()
            BusyTime.objects.bulk_create(rows)


def _pull(conn: Connection, account: CalDavAccount, calendar: RemoteCalendar) -> int:
    """Apply one calendar's changes since its sync token; returns how many objects changed.

    Memory does not grow with the calendar: the listing is read from a temporary file and
    handled `MULTIGET_BATCH` objects at a time (their copies looked up, their bodies fetched,
    their busy times rewritten). A complete listing (first sync, or a token the server forgot)
    finds what disappeared without holding the list: every listed object's busy times are
    rewritten, so the rows left at or below the highest id taken before the listing are of
    objects no longer there; and the copies of CRM meetings not seen (a set of ids, one per
    copy, not per calendar event) were deleted over there."""
    watermark = calendar.busy_times.aggregate(top=Max("id"))["top"] or 0
    now = timezone.now()
    context = (account.user.zone, (now - BUSY_PAST, now + BUSY_FUTURE))
    seen_copies: set[int] = set()
    token, full, total = calendar.sync_token, False, 0
    for page in range(MAX_LISTING_PAGES):
        listing = conn.listing(calendar.url, token)
        full = full or (page == 0 and listing.full)
        for batch in itertools.batched(listing, MULTIGET_BATCH):
            total += _pull_batch(conn, account, calendar, dict(batch), context, seen_copies)
        token = listing.sync_token
        if not listing.truncated:
            break
    if full:
        total += _pull_gone(conn, account, calendar, watermark, seen_copies)
    RemoteCalendar.objects.filter(pk=calendar.pk).update(sync_token=token)
    return total


def _pull_batch(conn, account, calendar, listed: dict[str, str | None], context, seen_copies):
    """Apply one batch of a listing: url → ETag, None for a deleted object."""
    zone, window = context
    listed = {url_key(url): etag for url, etag in listed.items()}
    copies = {
        copy.href: copy for copy in PushedEvent.objects.filter(account=account, href__in=listed)
    }
    seen_copies.update(copy.pk for copy in copies.values())
    deleted = [href for href, etag in listed.items() if etag is None]
    for href in deleted:
        if href in copies and calendar.receives_meetings:
            # Cancelling a meeting is not undone by the next sync: make sure it is gone.
            remote = conn.get(href)
            _apply_remote(account, copies[href], *(remote or ("", None)))
    fetch = [
        href
        for href, etag in listed.items()
        if etag is not None and not (href in copies and copies[href].etag == etag)
    ]
    busy_hrefs, busy_rows = list(deleted), []
    for href, text in conn.objects(calendar.url, fetch):
        key = url_key(href)
        if key in copies:
            if calendar.receives_meetings:
                _apply_remote(account, copies[key], listed.get(key) or "", text)
            continue
        if calendar.counts_as_busy:
            busy_hrefs.append(key)
            busy_rows += _busy_rows(calendar, key, text, zone, window)
    _busy_replace(calendar, busy_hrefs, busy_rows)
    return len(listed)


def _pull_gone(conn, account, calendar, watermark: int, seen_copies: set[int]) -> int:
    """After a complete listing: drop the busy times of objects it did not list, and apply
    the deletion of the copies it did not list. Returns how many objects went."""
    stale = calendar.busy_times.filter(id__lte=watermark)
    gone = stale.values("href").distinct().count()
    with transaction.atomic(durable=True):
        stale.delete()
    if calendar.receives_meetings:
        missing = PushedEvent.objects.filter(account=account).exclude(pk__in=seen_copies)
        for copy in missing.iterator():
            remote = conn.get(copy.href)
            _apply_remote(account, copy, *(remote or ("", None)))
            gone += 1
    return gone


def _pending_events(account: CalDavAccount):
    """The account owner's meetings whose copy is missing or behind, and cancelled ones whose
    copy must go (a declined attendee's too)."""
    copy = PushedEvent.objects.filter(account=account, event=OuterRef("pk"))
    attends = Attendee.objects.filter(event=OuterRef("pk"), user=account.user_id)
    mine = Q(organizer=account.user_id) | Q(Exists(attends.exclude(rsvp=Rsvp.DECLINED)))
    declined = Q(Exists(attends.filter(rsvp=Rsvp.DECLINED)))
    current = Q(Exists(copy.filter(sequence=OuterRef("sequence"))))  # the event's sequence
    return Event.objects.filter(end_time__gte=timezone.now() - PUSH_PAST).filter(
        (mine & Q(status=EventStatus.CONFIRMED) & ~current)
        | ((Q(status=EventStatus.CANCELLED) | declined) & Q(Exists(copy)))
    )


def account_sync(*, account_id: str) -> int:
    """One sync of an account: push pending meetings, then pull each chosen calendar. A
    stopped account is skipped until fixed. Returns how many remote objects changed."""
    account = CalDavAccount.objects.select_related("user").filter(pk=account_id).first()
    if account is None or account.status == CalDavStatus.STOPPED:
        return 0
    try:
        conn = _connection(account)
        for event in _pending_events(account).select_related("organizer"):
            _push_one(conn, account, event)
        total = 0
        for calendar in account.calendars.filter(
            Q(receives_meetings=True) | Q(counts_as_busy=True)
        ):
            total += _pull(conn, account, calendar)
    except CalDavRefused as error:
        account_failure_record(account_id=account.pk, error=error)
        return 0
    except (CalDavError, crypto.InvalidToken, *RETRIED_ERRORS) as error:
        account_failure_record(account_id=account.pk, error=error)
        if isinstance(error, RETRIED_ERRORS):
            raise
        return 0
    CalDavAccount.objects.filter(pk=account.pk).update(
        status=CalDavStatus.ACTIVE,
        failure_count=0,
        last_error="",
        last_synced_at=timezone.now(),
        next_sync_at=timezone.now() + timedelta(minutes=settings.CALDAV_SYNC_INTERVAL_MINUTES),
    )
    return total


@transaction.atomic(durable=True)
def accounts_claim_due(*, now: datetime | None = None) -> list[str]:
    """Ids of the accounts whose periodic sync is due, each claimed (its next sync moved one
    interval on, rows locked with SKIP LOCKED) so two cron hosts never queue it twice.
    Stopped accounts wait to be fixed."""
    now = now or timezone.now()
    due = list(
        CalDavAccount.objects.select_for_update(skip_locked=True, no_key=True)
        .filter(Q(next_sync_at__lte=now) | Q(next_sync_at=None))
        .exclude(status=CalDavStatus.STOPPED)
        .values_list("pk", flat=True)
    )
    CalDavAccount.objects.filter(pk__in=due).update(
        next_sync_at=now + timedelta(minutes=settings.CALDAV_SYNC_INTERVAL_MINUTES)
    )
    return [str(pk) for pk in due]
