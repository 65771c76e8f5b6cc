"""Race safety of the lifecycle (docs/lifecycle.md, "Races"), proven with two real database connections at once on PostgreSQL.

Two threads, each with its own connection, call the services at the same moment. To make the overlap certain
rather than likely, the test first holds the record's row lock in a third transaction, starts both threads
(a barrier releases them together), waits until PostgreSQL reports both blocked on that lock — so both have
passed every check made before the lock — and only then lets go. Exactly one must win; the other must be
refused with the service's Chinese message and leave nothing behind but its `.refused` audit event.

SQLite has no row locks (SELECT … FOR UPDATE is a no-op there; a write locks the whole file), so it cannot
show this race: the tests are skipped on it (and fail with CI=true). CI runs them on PostgreSQL.
"""

import threading
import time
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.db import connection, connections, transaction

from projects import services as project_services
from projects.audit import Actor
from projects.models import AuditEvent, Project, RecordLocked, Status
from review import services as review_services
from review.models import ReviewDecision
from tests.builders import last_event_id, make_enterprise_user, make_project, make_reviewer
from tests.needs import needs_service

pytestmark = [
    needs_service(
        settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql",
        reason="needs PostgreSQL: SQLite has no row locks, so two connections cannot race on one record "
        "(run with DATABASE_URL=postgres://…)",
    ),
    pytest.mark.django_db(transaction=True),
]

ROUNDS = 3
TRANSITIONS = {"review.approve", "review.return", "review.reject", "project.withdraw"}


@dataclass
class Outcome:
    name: str
    result: object = None
    error: BaseException | None = None


@pytest.fixture
def world(authorities, open_windows):
    yuzhong = authorities["500103"]
    owner = make_enterprise_user(username="race-owner")
    return {
        "authority": yuzhong,
        "owner": Actor(owner, "192.0.2.1"),
        "first": Actor(make_reviewer(yuzhong, username="race-reviewer-1"), "192.0.2.2"),
        "second": Actor(make_reviewer(yuzhong, username="race-reviewer-2"), "192.0.2.3"),
    }


def submitted_record(world) -> Project:
    owner = world["owner"]
    project = make_project(owner.user.membership.enterprise, owner.user, world["authority"])
    return project_services.submit_project(actor=owner, project=project, expected_status=Status.DRAFT)


def approve(actor):
    return lambda project: review_services.approve(
        actor=actor, project=project, expected_status=Status.SUBMITTED, comment="同意公示"
    )


def return_for_revision(actor):
    return lambda project: review_services.return_for_revision(
        actor=actor,
        project=project,
        expected_status=Status.SUBMITTED,
        comments=[{"stage": "permit", "field": "permit_number", "text": "请核对许可证编号"}],
    )


def withdraw(actor):
    return lambda project: project_services.withdraw_project(
        actor=actor, project=project, expected_status=Status.SUBMITTED
    )


def blocked_on_locks() -> int:
    """How many other sessions of this database wait for a lock right now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def race(project, contenders: dict) -> list[Outcome]:
    """Run each contender (name → function of a Project) in its own thread and connection, at once."""
    outcomes = [Outcome(name) for name in contenders]
    barrier = threading.Barrier(len(contenders) + 1)

    def run(outcome, act):
        try:
            # Each thread reads the record as its page did: before anyone decided.
            stale = Project.objects.get(pk=project.pk)
            barrier.wait(timeout=10)
            outcome.result = act(stale)
        except BaseException as error:  # noqa: BLE001 - reported to the test below
            outcome.error = error
        finally:
            connections.close_all()  # this thread's connection

    threads = [
        threading.Thread(target=run, args=(outcome, act), name=outcome.name)
        for outcome, act in zip(outcomes, contenders.values(), strict=True)
    ]
    with transaction.atomic():
        Project.objects.select_for_update().get(pk=project.pk)  # hold the row: nobody gets past lock_project
        for thread in threads:
            thread.start()
        barrier.wait(timeout=10)
        deadline = time.monotonic() + 10
        while blocked_on_locks() < len(contenders):
            assert time.monotonic() < deadline, "the contenders never reached the row lock"
            time.sleep(0.01)
    # the lock is released: both go for it now
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive(), f"{thread.name} hung"
    return outcomes


def assert_one_winner(project, outcomes, since):
    winners = [o for o in outcomes if o.error is None]
    losers = [o for o in outcomes if o.error is not None]
    assert len(winners) == 1 and len(losers) == 1, [(o.name, repr(o.error)) for o in outcomes]
    [winner], [loser] = winners, losers
    assert isinstance(loser.error, RecordLocked), repr(loser.error)

    project.refresh_from_db()
    assert project.status == winner.result.status
    # the loser is told who moved the record, in the service's own words
    assert str(loser.error) == (
        f"该项目的状态已变为“{project.get_status_display()}”（您打开页面时为“已提交待审核”），"
        "可能已有其他人处理。请刷新后查看。"
    )
    events = list(AuditEvent.objects.filter(project=project, id__gt=since).order_by("id"))
    assert len([e for e in events if e.action in TRANSITIONS]) == 1, [e.action for e in events]
    refused = [e for e in events if e.action.endswith(".refused")]
    assert len(refused) == 1 and refused[0].message == str(loser.error)
    return winner, loser, events


@pytest.mark.parametrize("first_kind, second_kind", [("approve", "approve"), ("approve", "return")])
def test_two_reviewers_deciding_at_once_make_exactly_one_decision(world, first_kind, second_kind):
    kinds = {"approve": approve, "return": return_for_revision}
    for _ in range(ROUNDS):
        project = submitted_record(world)
        since = last_event_id()

        outcomes = race(
            project,
            {
                f"{first_kind} by reviewer 1": kinds[first_kind](world["first"]),
                f"{second_kind} by reviewer 2": kinds[second_kind](world["second"]),
            },
        )

        winner, _loser, events = assert_one_winner(project, outcomes, since)
        [decision] = ReviewDecision.objects.filter(project=project)
        assert decision.reviewer == (world["first"] if "reviewer 1" in winner.name else world["second"]).user
        [transition] = [e for e in events if e.action in TRANSITIONS]
        assert transition.actor == decision.reviewer
        assert transition.changes["status"] == [Status.SUBMITTED, project.status]


def test_a_withdrawal_racing_an_approval_lets_exactly_one_through(world):
    for _ in range(ROUNDS):
        project = submitted_record(world)
        since = last_event_id()

        outcomes = race(
            project,
            {
                "withdraw by the enterprise": withdraw(world["owner"]),
                "approve by reviewer": approve(world["first"]),
            },
        )

        winner, _loser, events = assert_one_winner(project, outcomes, since)
        decisions = ReviewDecision.objects.filter(project=project)
        if winner.name.startswith("withdraw"):
            assert project.status == Status.DRAFT and not decisions.exists()
        else:
            assert project.status == Status.IN_NOTICE and decisions.count() == 1
        [transition] = [e for e in events if e.action in TRANSITIONS]
        assert (
            transition.actor
            == (world["owner"] if winner.name.startswith("withdraw") else world["first"]).user
        )
