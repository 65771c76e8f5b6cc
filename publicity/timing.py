"""When a notice ends: N days after it starts, at 24:00 Beijing time.

Counting starts the day after the start (the day of approval is not a full day of notice). Calendar days by
default; with NOTICE_DAY_MODE = "working", only official working days count (chinese-calendar: weekends,
public holidays and the swapped working weekends of the State Council's schedule). chinese-calendar knows the
years up to its release (2026 for 1.11.0); beyond that, Monday to Friday count as working days and a warning is
logged — upgrade the package when the State Council publishes the next year's schedule.
"""

import datetime
import logging
from zoneinfo import ZoneInfo

import chinese_calendar
from django.conf import settings

BEIJING = ZoneInfo("Asia/Shanghai")
log = logging.getLogger(__name__)


def is_working_day(day: datetime.date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        log.warning(
            "chinese-calendar has no data for %s; counting Monday to Friday as working days", day.year
        )
        return day.weekday() < 5


def notice_end(
    starts_at: datetime.datetime, days: int | None = None, mode: str | None = None
) -> datetime.datetime:
    """The aware datetime at which a notice started at `starts_at` ends (00:00 of the next day, Beijing)."""
    days = settings.NOTICE_DAYS if days is None else days
    mode = settings.NOTICE_DAY_MODE if mode is None else mode
    day = starts_at.astimezone(BEIJING).date()
    counted = 0
    while counted < days:
        day += datetime.timedelta(days=1)
        if mode == "calendar" or is_working_day(day):
            counted += 1
    return datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, tzinfo=BEIJING)
