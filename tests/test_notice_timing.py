"""How a notice's time is shown: the days left and the end, the same on every page (docs/lifecycle.md, "Timers").

The expected values are written out by hand from the Civil Code's rule (the start day not counted, the end at 24:00
of the last day), not computed by the code under test."""

import datetime

import pytest
from django.utils import timezone

from publicity import timing
from publicity.timing import BEIJING


def beijing(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=BEIJING)


APPROVED = beijing(2026, 9, 28, 10, 0)  # → runs 29 Sep – 8 Oct, ends 8 Oct 24:00
END = beijing(2026, 10, 9, 0, 0)


def test_a_ten_day_notice_approved_on_28_september_ends_on_8_october_at_24_00():
    assert timing.notice_end(APPROVED, days=10, mode="calendar") == END
    assert timing.end_text(END) == "2026-10-08 24:00"


@pytest.mark.parametrize(
    ("now", "left"),
    [
        (beijing(2026, 9, 28, 10, 0), 10),  # the day it starts: the start day is not counted
        (beijing(2026, 9, 28, 23, 59), 10),
        (beijing(2026, 9, 29, 0, 0), 10),  # its first day
        (beijing(2026, 9, 29, 18, 0), 10),
        (beijing(2026, 10, 1, 9, 0), 8),
        (beijing(2026, 10, 7, 23, 0), 2),
        (beijing(2026, 10, 8, 0, 0), 1),  # its last day
        (beijing(2026, 10, 8, 23, 59, 59), 1),
        (beijing(2026, 10, 9, 0, 0), 0),  # ended
        (beijing(2026, 10, 20, 12, 0), 0),
    ],
)
def test_the_days_left_count_today_to_the_last_day_and_never_exceed_the_length(now, left):
    assert timing.days_left(APPROVED, END, now, length=10, mode="calendar") == left


def test_the_days_left_follow_the_length_setting():
    start = beijing(2026, 3, 2, 15, 0)
    for length in (5, 10, 15):
        end = timing.notice_end(start, days=length, mode="calendar")
        assert end == beijing(2026, 3, 3 + length, 0, 0)
        assert timing.days_left(start, end, start, length=length, mode="calendar") == length
        assert (
            timing.days_left(start, end, end - datetime.timedelta(hours=1), length=length, mode="calendar")
            == 1
        )


def test_in_working_day_mode_the_days_left_count_working_days_only():
    # Approved on Friday 2026-11-06: the 10 working days are 9–13 and 16–20 November, ending 20 Nov 24:00.
    start = beijing(2026, 11, 6, 16, 0)
    end = timing.notice_end(start, days=10, mode="working")
    assert end == beijing(2026, 11, 21, 0, 0)
    assert timing.days_left(start, end, start, length=10, mode="working") == 10
    assert (
        timing.days_left(start, end, beijing(2026, 11, 8, 12, 0), length=10, mode="working") == 10
    )  # Sunday
    assert (
        timing.days_left(start, end, beijing(2026, 11, 14, 12, 0), length=10, mode="working") == 5
    )  # Saturday
    assert timing.days_left(start, end, beijing(2026, 11, 20, 23, 0), length=10, mode="working") == 1


@pytest.mark.parametrize(
    ("now", "remaining", "end"),
    [
        # Paused on day 7 at 10:00 with 3 days 14 hours left, dismissed two days later at 15:30: the remaining time
        # runs out at 05:30 on the 4th day after, and the notice ends at 24:00 of that day.
        (beijing(2026, 10, 7, 15, 30), 3 * 86400 + 14 * 3600, beijing(2026, 10, 12, 0, 0)),
        # Remaining time that runs out exactly at midnight ends there.
        (beijing(2026, 10, 7, 0, 0), 2 * 86400, beijing(2026, 10, 9, 0, 0)),
        (beijing(2026, 10, 7, 23, 59), 60, beijing(2026, 10, 8, 0, 0)),
        (beijing(2026, 10, 7, 23, 59), 61, beijing(2026, 10, 9, 0, 0)),
    ],
)
def test_a_resumed_notice_ends_at_24_00_of_the_day_its_remaining_time_runs_out(now, remaining, end):
    assert timing.resumed_end(now, remaining) == end
    assert timing.end_text(end).endswith(" 24:00")


def test_an_end_that_is_not_at_midnight_is_written_to_the_minute():
    assert timing.end_text(beijing(2026, 12, 12, 17, 5)) == "2026-12-12 17:05"
    assert timing.end_text(datetime.datetime(2026, 12, 12, 16, 0, tzinfo=datetime.UTC)) == "2026-12-12 24:00"


# ---------------------------------------------------------------- the defaults, the holiday rule, working days


def test_with_the_default_settings_a_notice_lasts_ten_calendar_days_and_ends_at_24_00(settings):
    # Pins the default length (10, not 9 or 11) and the end (24:00 of the last day, not 00:00 of it).
    assert settings.NOTICE_DAYS == 10 and settings.NOTICE_DAY_MODE == "calendar"
    assert not settings.NOTICE_HOLIDAY_EXTENDS_END
    assert timing.notice_end(APPROVED) == END
    assert (
        timing.notice_end(beijing(2026, 9, 28, 0, 0)) == END
    )  # approved at midnight: the day still not counted
    assert timing.notice_end(beijing(2026, 9, 28, 23, 59)) == END


@pytest.mark.parametrize(
    ("approved", "without_rule", "with_rule"),
    [
        # The 10th day is 1 October, in the National Day holiday (1–7 October 2026): moved to 8 October.
        (beijing(2026, 9, 21, 10, 0), beijing(2026, 10, 2, 0, 0), beijing(2026, 10, 9, 0, 0)),
        # The 10th day is Saturday 14 November: moved to Monday 16 November.
        (beijing(2026, 11, 4, 10, 0), beijing(2026, 11, 15, 0, 0), beijing(2026, 11, 17, 0, 0)),
        # The 10th day is Saturday 10 October 2026, a make-up working day: it stays.
        (beijing(2026, 9, 30, 10, 0), beijing(2026, 10, 11, 0, 0), beijing(2026, 10, 11, 0, 0)),
        # The 10th day is a Wednesday: nothing to move.
        (beijing(2026, 9, 28, 10, 0), END, END),
    ],
)
def test_the_holiday_rule_of_article_203_moves_a_last_day_that_is_a_rest_day(
    settings, approved, without_rule, with_rule
):
    settings.NOTICE_HOLIDAY_EXTENDS_END = False
    assert timing.notice_end(approved, days=10, mode="calendar") == without_rule
    settings.NOTICE_HOLIDAY_EXTENDS_END = True
    assert timing.notice_end(approved, days=10, mode="calendar") == with_rule


def independent_working_day_end(start: datetime.date, length: int) -> datetime.date:
    """The oracle: walk the official calendar (chinese_calendar.is_workday) from the day after the start until
    `length` working days have passed; the notice ends at 24:00 of that day, stored as 00:00 of the next."""
    import chinese_calendar

    day, counted = start, 0
    while counted < length:
        day += datetime.timedelta(days=1)
        counted += chinese_calendar.is_workday(day)
    return day + datetime.timedelta(days=1)


def test_working_day_notices_match_the_official_calendar_for_every_start_day_of_2025_and_2026():
    start, checked = datetime.date(2025, 1, 1), 0
    last_start = datetime.date(2026, 12, 31) - datetime.timedelta(
        days=20
    )  # the end stays within the calendar
    while start <= last_start:
        expected = independent_working_day_end(start, 10)
        got = timing.notice_end(beijing(start.year, start.month, start.day, 15, 0), days=10, mode="working")
        assert got == datetime.datetime.combine(expected, datetime.time.min, BEIJING), start
        start += datetime.timedelta(days=1)
        checked += 1
    assert checked > 700
    # Spring Festival 2026 (15–23 February off, Saturday 14 and 28 February worked): approved Friday 13 February.
    assert timing.notice_end(beijing(2026, 2, 13, 9, 0), days=10, mode="working") == beijing(2026, 3, 6, 0, 0)


def test_after_the_calendars_last_year_working_days_fall_back_to_monday_to_friday(caplog):
    # 2027 is past chinese-calendar 1.11.0's data: Friday 8 January 2027 + 10 weekdays = Friday 22 January.
    assert timing.CALENDAR_LAST_DAY == datetime.date(2026, 12, 31)
    assert timing.notice_end(beijing(2027, 1, 8, 9, 0), days=10, mode="working") == beijing(2027, 1, 23, 0, 0)
    assert "counting Monday to Friday" in caplog.text


def test_the_console_is_warned_sixty_days_before_the_calendar_runs_out(settings):
    settings.NOTICE_DAY_MODE = "working"
    assert timing.calendar_warning(datetime.date(2026, 10, 31)) == ""
    warning = timing.calendar_warning(datetime.date(2026, 11, 1))
    assert "2026年12月31日" in warning and "chinese-calendar" in warning
    settings.NOTICE_DAY_MODE = "calendar"  # calendar days need no holiday data
    assert timing.calendar_warning(datetime.date(2026, 12, 1)) == ""
    settings.NOTICE_HOLIDAY_EXTENDS_END = True  # … unless the holiday rule is on
    assert timing.calendar_warning(datetime.date(2026, 12, 1)) != ""


@pytest.mark.django_db
def test_the_console_home_shows_the_calendar_warning_in_working_day_mode(client, settings, reviewer):
    client.force_login(reviewer)
    settings.NOTICE_DAY_MODE = "calendar"
    assert 'id="calendar-warning"' not in client.get("/admin/").content.decode()
    settings.NOTICE_DAY_MODE = "working"
    content = client.get("/admin/").content.decode()
    expected = timing.calendar_warning(timezone.localdate())
    assert (expected != "") == ('id="calendar-warning"' in content)
    if expected:
        assert expected in content
