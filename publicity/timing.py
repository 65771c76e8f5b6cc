"""When a notice ends: N days after it starts, at 24:00 Beijing time (docs/lifecycle.md, "Timers").

Counting starts the day after the start (the day of approval is not a full day of notice). Calendar days by
default; with NOTICE_DAY_MODE = "working", only official working days count (chinese-calendar: weekends,
public holidays and the swapped working weekends of the State Council's schedule). With
NOTICE_HOLIDAY_EXTENDS_END, a last day that is a rest day moves to the next working day (民法典 第二百零三条).
chinese-calendar knows the years up to its release (2026 for 1.11.0); beyond that, Monday to Friday count as
working days and a warning is logged, and the console warns CALENDAR_WARNING_DAYS before the data runs out —
upgrade the package when the State Council publishes the next year's schedule.
"""

import datetime
import logging
from zoneinfo import ZoneInfo

from chinese_calendar import constants as calendar_data
from django.conf import settings

from projects.working_days import is_working_day

BEIJING = ZoneInfo("Asia/Shanghai")
log = logging.getLogger(__name__)


# The official calendar's data ends with the last year it lists; after that is_working_day() falls back.
CALENDAR_LAST_DAY = datetime.date(
    max(day.year for day in (*calendar_data.holidays, *calendar_data.workdays)), 12, 31
)
CALENDAR_WARNING_DAYS = 60


def calendar_warning(today: datetime.date) -> str:
    """A warning for the console when notices depend on the official calendar (working-day mode, or the holiday
    rule) and its data runs out within CALENDAR_WARNING_DAYS days; "" otherwise."""
    if settings.NOTICE_DAY_MODE != "working" and not settings.NOTICE_HOLIDAY_EXTENDS_END:
        return ""
    if today < CALENDAR_LAST_DAY - datetime.timedelta(days=CALENDAR_WARNING_DAYS):
        return ""
    return (
        f"节假日日历数据（chinese-calendar）只到{CALENDAR_LAST_DAY:%Y年%m月%d日}：此后的公示期按周一至周五为工作日计算。"
        "请在国务院公布下一年度放假安排后升级 chinese-calendar。"
    )


def counts(day: datetime.date, mode: str) -> bool:
    """Whether `day` is one of a notice's days in the given mode."""
    return mode == "calendar" or is_working_day(day)


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
        if counts(day, mode):
            counted += 1
    if settings.NOTICE_HOLIDAY_EXTENDS_END:
        # 民法典 第二百零三条: a last day that is a statutory rest day (a holiday, or a weekend that is not a
        # make-up working day) moves to the day after the rest ends.
        while not is_working_day(day):
            day += datetime.timedelta(days=1)
    return datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, tzinfo=BEIJING)


def end_of_day(moment: datetime.datetime) -> datetime.datetime:
    """24:00 Beijing time of the day `moment` falls on (that is, 00:00 of the next day); a moment already at
    00:00 is the end of the day before, and stays as it is."""
    local = moment.astimezone(BEIJING)
    if local.time() == datetime.time.min:
        return local
    return datetime.datetime.combine(
        local.date() + datetime.timedelta(days=1), datetime.time.min, tzinfo=BEIJING
    )


def resumed_end(now: datetime.datetime, remaining_seconds: int) -> datetime.datetime:
    """When a paused notice ends once it runs again: the time it had left, counted from now, rounded up to 24:00
    of that day (docs/lifecycle.md, "Timers"), so that every notice ends at 24:00 and none is cut short."""
    return end_of_day(now + datetime.timedelta(seconds=remaining_seconds))


def end_text(moment: datetime.datetime) -> str:
    """An end as the notice rule says it: 00:00 Beijing time reads as 24:00 of the day before
    ("2026-12-12 24:00"); any other moment as its minute."""
    local = moment.astimezone(BEIJING)
    if local.time() == datetime.time.min:
        return f"{local.date() - datetime.timedelta(days=1):%Y-%m-%d} 24:00"
    return f"{local:%Y-%m-%d %H:%M}"


def days_left(
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    now: datetime.datetime,
    length: int | None = None,
    mode: str | None = None,
) -> int:
    """The notice's days still to run, as the public reads them: the counted days from today (the start day is
    not one of them) to the last day, both included. The day a notice starts shows its whole length (10), its
    last day shows 1, an ended notice 0; it never exceeds the notice's length."""
    length = settings.NOTICE_DAYS if length is None else length
    mode = settings.NOTICE_DAY_MODE if mode is None else mode
    if now >= ends_at:
        return 0
    last_day = (ends_at.astimezone(BEIJING) - datetime.timedelta(microseconds=1)).date()
    day = max(
        now.astimezone(BEIJING).date(), starts_at.astimezone(BEIJING).date() + datetime.timedelta(days=1)
    )
    left = 0
    while day <= last_day and left < length:
        left += counts(day, mode)
        day += datetime.timedelta(days=1)
    return max(1, left)
