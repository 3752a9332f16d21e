import datetime
from zoneinfo import ZoneInfo

from calendar_app.grid import local_datetime, month_range, shift, week_range

PARIS = ZoneInfo("Europe/Paris")


def test_local_datetime_keeps_the_wall_clock_on_both_sides_of_a_dst_change():
    before = local_datetime(datetime.date(2027, 3, 27), datetime.time(10), PARIS)
    after = local_datetime(datetime.date(2027, 3, 28), datetime.time(10), PARIS)
    assert before.utcoffset() == datetime.timedelta(hours=1)
    assert after.utcoffset() == datetime.timedelta(hours=2)
    assert after.astimezone(datetime.UTC) - before.astimezone(datetime.UTC) == datetime.timedelta(
        hours=23
    )


def test_a_time_in_the_spring_gap_moves_to_just_after_the_jump():
    moved = local_datetime(datetime.date(2027, 3, 28), datetime.time(2, 30), PARIS)
    assert moved.astimezone(datetime.UTC) == datetime.datetime(
        2027, 3, 28, 1, 30, tzinfo=datetime.UTC
    )
    assert (moved.hour, moved.minute) == (3, 30)


def test_the_month_view_covers_whole_weeks_monday_to_sunday():
    first, last = month_range(datetime.date(2027, 2, 14))
    assert (first, last) == (datetime.date(2027, 2, 1), datetime.date(2027, 2, 28))
    first, last = month_range(datetime.date(2026, 11, 24))
    assert (first, last) == (datetime.date(2026, 10, 26), datetime.date(2026, 12, 6))


def test_week_range_and_shift():
    assert week_range(datetime.date(2027, 3, 28)) == (
        datetime.date(2027, 3, 22),
        datetime.date(2027, 3, 28),
    )
    assert shift(datetime.date(2027, 1, 31), "month", -1) == datetime.date(2026, 12, 1)
    assert shift(datetime.date(2026, 12, 31), "month", 1) == datetime.date(2027, 1, 1)
    assert shift(datetime.date(2027, 3, 28), "week", 1) == datetime.date(2027, 4, 4)
