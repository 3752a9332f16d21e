import datetime

import factory
from django.utils import timezone

from calendar_app import crypto
from calendar_app.models import (
    Attendee,
    BusyTime,
    CalDavAccount,
    Event,
    RemoteCalendar,
    Rsvp,
)
from tests.coop.factories import UserFactory


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    organizer = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Meeting {n}")
    start_time = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=1))
    end_time = factory.LazyAttribute(lambda event: event.start_time + datetime.timedelta(hours=1))


class AttendeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attendee

    event = factory.SubFactory(EventFactory)
    rsvp = Rsvp.NEEDS_ACTION


class CalDavAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CalDavAccount

    user = factory.SubFactory(UserFactory)
    server_url = "https://cal.example.coop/"
    username = factory.LazyAttribute(lambda account: account.user.username)
    password_encrypted = factory.LazyFunction(lambda: crypto.encrypt("app-password"))


class RemoteCalendarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RemoteCalendar

    account = factory.SubFactory(CalDavAccountFactory)
    url = factory.Sequence(lambda n: f"https://cal.example.coop/me/cal{n}/")
    name = "Personal"
    counts_as_busy = True


class BusyTimeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusyTime

    calendar = factory.SubFactory(RemoteCalendarFactory)
    user = factory.LazyAttribute(lambda busy: busy.calendar.account.user)
    href = factory.Sequence(lambda n: f"https://cal.example.coop/me/cal/{n}.ics")
    start_time = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=1))
    end_time = factory.LazyAttribute(lambda busy: busy.start_time + datetime.timedelta(hours=1))
    summary = "Dentist"
