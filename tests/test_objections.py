"""Objections end to end through the services: a member of the public objects, the notice pauses; a reviewer of
the record's authority dismisses the objection (the notice resumes with the time it had left, then ends and the
record enters the national platform — the simulator, over HTTP) or upholds it (the record goes back to the
enterprise with the objection attached as a comment). In-process, without Celery: runs on SQLite and PostgreSQL."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from projects import services as project_services
from projects.audit import Actor
from projects.models import AuditEvent, ReviewComment, Status
from projects.services import RecordLocked
from publicity import services
from publicity.models import (
    LibraryEntry,
    Notice,
    NoticeState,
    Objection,
    ObjectionStatus,
    OutboxMessage,
    OutboxState,
)
from publicity.timing import BEIJING, notice_end
from review import services as review_services
from tests.builders import make_project, status_of
from tests.simulator_process import API_KEY

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


@pytest.fixture
def noticed(clerk, reviewer, yuzhong):
    """A record a reviewer approved: its 10-day notice is running."""
    project = make_project(clerk.membership.enterprise, clerk, yuzhong, status=Status.SUBMITTED)
    return review_services.approve(actor=Actor(user=reviewer), project=project)


def notice_of(project) -> Notice:
    return Notice.objects.get(project=project)


def leave(notice, remaining: datetime.timedelta):
    """The time machine: the notice has `remaining` left (negative: it ended that long ago)."""
    Notice.objects.filter(pk=notice.pk).update(ends_at=timezone.now() + remaining)


def objection_to(notice, reason="该项目实际于2019年竣工，与公示的竣工日期不符。", **fields) -> Objection:
    return services.file_objection(
        notice_id=notice.pk,
        name=fields.pop("name", "张三"),
        contact=fields.pop("contact", "13800000000"),
        reason=reason,
        ip_address="203.0.113.5",
        **fields,
    )


def dismiss(reviewer, objection, outcome="经核实，竣工验收备案日期与档案一致，异议不成立。"):
    return services.dismiss_objection(actor=Actor(user=reviewer), objection_id=objection.pk, outcome=outcome)


def uphold(reviewer, objection, outcome="经核实，竣工日期填报有误，异议成立。"):
    return services.uphold_objection(actor=Actor(user=reviewer), objection_id=objection.pk, outcome=outcome)


# ---------------------------------------------------------------- an objection pauses the notice


def test_it_pauses_the_notice_when_the_public_objects(noticed):
    notice = notice_of(noticed)
    leave(notice, 3 * DAY)

    objection = objection_to(notice)

    notice.refresh_from_db()
    assert notice.state == NoticeState.PAUSED
    assert abs(notice.remaining_seconds - 3 * 86400) <= 5
    assert notice.days_left() == 3
    assert status_of(noticed) == Status.OBJECTED
    assert objection.status == ObjectionStatus.PENDING
    assert objection.reference.startswith("YY")
    assert AuditEvent.objects.filter(project=noticed, action="objection.receive").exists()


def test_it_refuses_an_objection_once_the_notice_has_ended(noticed):
    notice = notice_of(noticed)
    leave(notice, -datetime.timedelta(seconds=1))
    services.close_expired_notices()

    with pytest.raises(RecordLocked):
        objection_to(notice)

    assert not Objection.objects.exists()
    assert status_of(noticed) == Status.ENTERING


def test_it_refuses_an_objection_after_the_end_even_before_the_sweep_ran(noticed):
    # Beat was down across the notice's end: the notice still says "running", but its time is up. An objection
    # now must not pause it (and so extend the notice past its 10 days).
    notice = notice_of(noticed)
    leave(notice, -datetime.timedelta(minutes=5))

    with pytest.raises(RecordLocked):
        objection_to(notice)

    notice.refresh_from_db()
    assert notice.state == NoticeState.RUNNING
    assert status_of(noticed) == Status.IN_NOTICE
    assert services.close_expired_notices() == 1
    assert status_of(noticed) == Status.ENTERING


# ---------------------------------------------------------------- dismissed: the clock resumes, then the record enters


def test_it_resumes_with_the_remaining_time_on_dismissal_then_enters_the_library(
    noticed, reviewer, national_platform, settings
):
    base_url, simulator = national_platform
    settings.NATIONAL_PLATFORM_URL = base_url
    settings.NATIONAL_PLATFORM_API_KEY = API_KEY
    notice = notice_of(noticed)
    leave(notice, 3 * DAY)
    objection = objection_to(notice)
    # The district takes two days to look into it: the paused days do not count.
    Notice.objects.filter(pk=notice.pk).update(paused_at=timezone.now() - 2 * DAY)

    dismissed = dismiss(reviewer, objection)

    notice.refresh_from_db()
    # Resumed with the 3 days it had left, rounded up to 24:00 of that day (docs/lifecycle.md, "Timers"):
    expected_end = (timezone.now() + 3 * DAY).astimezone(BEIJING).date() + datetime.timedelta(days=1)
    assert notice.state == NoticeState.RUNNING
    assert notice.ends_at.astimezone(BEIJING) == datetime.datetime.combine(
        expected_end, datetime.time.min, BEIJING
    )
    assert notice.end_text == f"{expected_end - datetime.timedelta(days=1):%Y-%m-%d} 24:00"
    assert notice.ends_at < notice_end(timezone.now())  # a restart would give 10 full days
    assert notice.paused_at is None
    assert status_of(noticed) == Status.IN_NOTICE
    assert dismissed.status == ObjectionStatus.DISMISSED
    assert dismissed.handled_by == reviewer
    assert "异议不成立" in dismissed.outcome

    # The time machine: the resumed notice ends with no objection standing.
    leave(notice, -datetime.timedelta(seconds=1))
    assert services.close_expired_notices() == 1
    assert status_of(noticed) == Status.ENTERING
    message = OutboxMessage.objects.get(project=noticed)
    assert message.snapshot == notice.snapshot

    assert services.deliver(message.pk) == "delivered"

    assert status_of(noticed) == Status.IN_NATIONAL_LIBRARY
    message.refresh_from_db()
    assert message.state == OutboxState.DELIVERED
    entry = LibraryEntry.objects.get(project=noticed)
    assert entry.national_id == message.national_id == f"NP-{noticed.project_number}"
    records = simulator.records()
    assert [r["project_number"] for r in records["records"]] == [noticed.project_number]
    assert records["create_calls"][noticed.project_number]["stored"] == 1


def test_it_keeps_the_notice_paused_until_every_objection_is_handled(noticed, reviewer):
    notice = notice_of(noticed)
    first = objection_to(notice)
    second = objection_to(
        notice, name="李四", contact="lisi@example.com", reason="公示的施工单位与实际不符。"
    )

    dismiss(reviewer, first)

    notice.refresh_from_db()
    assert notice.state == NoticeState.PAUSED
    assert status_of(noticed) == Status.OBJECTED

    dismiss(reviewer, second)

    notice.refresh_from_db()
    assert notice.state == NoticeState.RUNNING
    assert status_of(noticed) == Status.IN_NOTICE


# ---------------------------------------------------------------- upheld: back to the enterprise


def test_it_returns_the_record_with_the_objection_as_a_comment_when_upheld(noticed, reviewer, clerk):
    notice = notice_of(noticed)
    objection = objection_to(notice, contact="13800000000")
    other = objection_to(notice, name="李四", contact="lisi@example.com", reason="同上。")

    upheld = uphold(reviewer, objection)

    assert status_of(noticed) == Status.RETURNED
    assert upheld.status == ObjectionStatus.UPHELD
    notice.refresh_from_db()
    assert notice.state == NoticeState.CANCELLED
    assert notice.closed_at is not None
    other.refresh_from_db()
    assert other.status == ObjectionStatus.UPHELD
    assert other.outcome == upheld.outcome
    assert other.handled_by == reviewer and other.handled_at is not None
    comment = ReviewComment.objects.get(project=noticed)
    assert objection.reference in comment.text
    assert objection.reason in comment.text
    assert upheld.outcome in comment.text
    assert "13800000000" not in comment.text  # the objector's contact stays private
    assert not OutboxMessage.objects.exists()

    # The cancelled notice never closes into the national platform, whatever its end date says.
    leave(notice, -DAY)
    assert services.close_expired_notices() == 0
    assert status_of(noticed) == Status.RETURNED
    # The enterprise can edit the returned record again.
    noticed.refresh_from_db()
    project_services.update_project(
        actor=Actor(user=clerk), project=noticed, data={"address": "重庆市渝中区民族路2号"}
    )


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize("handle", [dismiss, uphold])
def test_it_refuses_a_reviewer_of_another_authority(noticed, other_reviewer, handle):
    objection = objection_to(notice_of(noticed))

    with pytest.raises(PermissionDenied):
        handle(other_reviewer, objection)

    objection.refresh_from_db()
    assert objection.status == ObjectionStatus.PENDING
    assert notice_of(noticed).state == NoticeState.PAUSED
    assert status_of(noticed) == Status.OBJECTED
    refused = f"objection.{handle.__name__}.refused"
    assert AuditEvent.objects.filter(action=refused, actor=other_reviewer).exists()


@pytest.mark.parametrize("handle", [dismiss, uphold])
def test_it_refuses_the_enterprise(noticed, clerk, handle):
    objection = objection_to(notice_of(noticed))

    with pytest.raises(PermissionDenied):
        handle(clerk, objection)

    objection.refresh_from_db()
    assert objection.status == ObjectionStatus.PENDING


@pytest.mark.parametrize("handle", [dismiss, uphold])
def test_it_requires_an_outcome(noticed, reviewer, handle):
    objection = objection_to(notice_of(noticed))

    with pytest.raises(ValidationError):
        handle(reviewer, objection, outcome="  ")

    objection.refresh_from_db()
    assert objection.status == ObjectionStatus.PENDING
    assert status_of(noticed) == Status.OBJECTED


def test_it_refuses_to_handle_an_objection_twice(noticed, reviewer):
    objection = objection_to(notice_of(noticed))
    dismiss(reviewer, objection)

    with pytest.raises(RecordLocked):
        uphold(reviewer, objection)

    assert status_of(noticed) == Status.IN_NOTICE
    assert not ReviewComment.objects.filter(project=noticed).exists()
