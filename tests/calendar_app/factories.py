import datetime

import factory
from django.utils import timezone

from calendar_app.models import Attendee, Event, Rsvp
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
