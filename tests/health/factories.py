import datetime

import factory

from health.models import CheckIn
from tests.coop.factories import UserFactory


class CheckInFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CheckIn

    user = factory.SubFactory(UserFactory)
    date = factory.LazyFunction(datetime.date.today)
    stress = 40
    sleep_hours = None
    energy = None
