"""How a notice's time is shown: the days left and the end, the same on every page (docs/lifecycle.md, "Timers").

The expected values are written out by hand from the Civil Code's rule (the start day not counted, the end at 24:00
of the last day), not computed by the code under test."""

import datetime

import pytest

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
