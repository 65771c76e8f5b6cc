"""Working days of the official calendar (chinese-calendar: weekends, public holidays and the State Council's
swapped working weekends): the review time limit is counted in them (docs/lifecycle.md, "The review time limit"),
and a 公示 may be (publicity.timing).

chinese-calendar knows the years up to its release; beyond that, Monday to Friday count and a warning is logged
(publicity.timing warns in the console before the data runs out)."""

import datetime
import functools
import logging

import chinese_calendar
from django.conf import settings

log = logging.getLogger(__name__)


def is_working_day(day: datetime.date) -> bool:
    official = _official_working_day(day)
    if official is None:
        log.warning(
            "chinese-calendar has no data for %s; counting Monday to Friday as working days", day.year
        )
        return day.weekday() < 5
    return official


@functools.lru_cache(maxsize=8192)
def _official_working_day(day: datetime.date) -> bool | None:
    """The calendar's answer, remembered per day (a release's calendar never changes while the process runs): the
    work queue asks for every day every listed record has waited, and chinese-calendar's own lookup was a fifth of
    the queue's time (bench/README.md). None past its data. 8,192 days are 22 years."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return None


def working_days_between(start: datetime.date, end: datetime.date) -> int:
    """Working days after `start` up to and including `end` (the day of submission is not a day waited)."""
    days, day = 0, start
    while day < end:
        day += datetime.timedelta(days=1)
        days += is_working_day(day)
    return days


def add_working_days(start: datetime.date, count: int) -> datetime.date:
    """The day on which `count` working days after `start` have passed (the last day of a time limit)."""
    day = start
    while count > 0:
        day += datetime.timedelta(days=1)
        count -= is_working_day(day)
    return day


def review_time_limit() -> int:
    """settings.REVIEW_TIME_LIMIT_WORKING_DAYS: the one setting of the review time limit."""
    return settings.REVIEW_TIME_LIMIT_WORKING_DAYS
