import datetime

import pytest

from coop.consent import consenting_user_ids
from coop.demo import seed as seed_core
from coop.models import ConsentEvent, ConsentScope, User
from health.demo import seed, seed_reps
from health.insights import team_insights
from health.models import CheckIn, SalesHealthMetric

pytestmark = pytest.mark.django_db


def test_demo_seeds_consenting_and_refusing_people_with_a_year_of_check_ins():
    seed_core(options={}, log=lambda _line: None)
    seed_reps(options={}, log=lambda _line: None)
    assert User.objects.filter(username__in=["tomas", "uma", "victor", "wen"]).count() == 4
    seed(options={"seed": 2026}, log=lambda _line: None)
    counts = (CheckIn.objects.count(), ConsentEvent.objects.count(), User.objects.count())
    seed(options={"seed": 2026}, log=lambda _line: None)
    assert (CheckIn.objects.count(), ConsentEvent.objects.count(), User.objects.count()) == counts

    team_insight_ids = consenting_user_ids(ConsentScope.TEAM_INSIGHTS)
    assert len(team_insight_ids) >= 5
    maria = User.objects.get(username="maria")
    assert maria.pk not in team_insight_ids
    assert CheckIn.objects.filter(user=maria).exists()
    dates = CheckIn.objects.filter(user=maria).values_list("date", flat=True)
    assert max(dates) - min(dates) >= datetime.timedelta(days=360)
    assert set(SalesHealthMetric.objects.values_list("user_id", flat=True)) == team_insight_ids
    (insight,) = team_insights(maria)
    assert all(week.figures for week in insight.weeks)  # five take part and check in weekly
    assert all(week.figures.people == len(team_insight_ids) for week in insight.weeks)
