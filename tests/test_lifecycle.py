"""The lifecycle of docs/lifecycle.md: role × transition, cell by cell, and the rules around it.

MATRIX below is the table of docs/lifecycle.md for the transitions that have services. A test checks that the
document says the same as MATRIX and as the model. Every allowed cell must succeed with all its traces. Every
refused cell must fail with a Chinese message and leave no trace but one `<action>.refused` audit event.
"""

import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition

from projects import services as project_services
from projects.audit import Actor
from projects.models import (
    AuditEvent,
    BackfillWindow,
    EnterpriseKind,
    Notification,
    Project,
    RecordLocked,
    ReviewComment,
    Status,
    SubmissionVersion,
)
from publicity.models import Notice, Snapshot
from review import services as review_services
from review.models import Decision, ReviewDecision

from .builders import last_event_id, make_city_user, make_enterprise_user, make_project, make_reviewer

DOC = Path(__file__).resolve().parent.parent / "docs" / "lifecycle.md"
CHINESE = re.compile(r"[\u4e00-\u9fff]")

# ---------------------------------------------------------------- the table (mirrors docs/lifecycle.md)

OWNER = "enterprise (owner)"
OTHER_ENTERPRISE = "enterprise (other)"
REVIEWER = "reviewer (own authority)"
OTHER_REVIEWER = "reviewer (other authority)"
CITY = "city"
PUBLIC = "public"
SYSTEM = "system"
ROLES = (OWNER, OTHER_ENTERPRISE, REVIEWER, OTHER_REVIEWER, CITY, PUBLIC, SYSTEM)
Y, N = "✔", "✘"

# fmt: off
MATRIX = {
    #                      owner other rev-own rev-other city public system
    "submit":              (Y,    N,    N,      N,        N,   N,     N),
    "withdraw":            (Y,    N,    N,      N,        N,   N,     N),
    "approve":             (N,    N,    Y,      N,        N,   N,     N),
    "return_for_revision": (N,    N,    Y,      N,        N,   N,     N),
    "reject":              (N,    N,    Y,      N,        N,   N,     N),
}
# fmt: on

RETURN_COMMENTS = [
    {"stage": "permit", "field": "permit_number", "text": "施工许可证编号与证书原件不符"},
    {"stage": "", "field": "", "text": "请补充说明项目的开工依据"},
]


@dataclass(frozen=True)
class Service:
    """How the test runs one transition's service, and what it must leave behind when allowed."""

    function: object
    action: str  # the audit event's action
    source: str  # the state each matrix cell starts from
    decision: str | None = None  # the ReviewDecision written, if any
    kwargs: dict = field(default_factory=dict)

    def __call__(self, actor, project, **extra):
        return self.function(actor=actor, project=project, **{**self.kwargs, **extra})


SERVICES = {
    "submit": Service(project_services.submit_project, "project.submit", Status.DRAFT),
    "withdraw": Service(project_services.withdraw_project, "project.withdraw", Status.SUBMITTED),
    "approve": Service(
        review_services.approve,
        "review.approve",
        Status.SUBMITTED,
        Decision.APPROVE,
        {"comment": "材料齐全，同意公示"},
    ),
    "return_for_revision": Service(
        review_services.return_for_revision,
        "review.return",
        Status.SUBMITTED,
        Decision.RETURN,
        {"comments": RETURN_COMMENTS},
    ),
    "reject": Service(
        review_services.reject,
        "review.reject",
        Status.SUBMITTED,
        Decision.REJECT,
        {"ground": "out_of_scope", "reason": "该项目为涉密工程，不在补录范围"},
    ),
}


def fsm_transitions() -> dict[str, tuple[set, str]]:
    """{transition name: (source states, target state)} as the model declares them."""
    found = {}
    for t in Project._meta.get_field("status").get_all_transitions(Project):
        sources, _ = found.get(t.name, (set(), None))
        found[t.name] = (sources | {t.source}, t.target)
    return found


# ---------------------------------------------------------------- the document says what the code does


def documented_rows() -> tuple[list[str], dict[str, list[str]]]:
    """The role × transition table of docs/lifecycle.md: (header cells, {transition: cells})."""
    header, rows = None, {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[0] == "transition":
            header = cells
        elif header and len(cells) == len(header) and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = cells
    return header, rows


def test_the_document_lists_every_state_with_its_chinese_name():
    text = DOC.read_text(encoding="utf-8")
    missing = [s.value for s in Status if f"| `{s.value}` | {s.label} |" not in text]
    assert missing == []


def test_the_document_lists_every_transition_as_the_model_declares_it():
    header, rows = documented_rows()
    assert header[2 : 2 + len(ROLES)] == list(ROLES)
    transitions = fsm_transitions()
    assert set(rows) == set(transitions)
    for name, (sources, target) in transitions.items():
        documented_sources, documented_target = rows[name][1].split("→")
        assert {s.strip() for s in documented_sources.split(",")} == sources, name
        assert documented_target.strip() == target, name
        assert set(rows[name][2 : 2 + len(ROLES)]) <= {Y, N, "—"}, name


def test_the_document_table_is_the_matrix_tested_here():
    _, rows = documented_rows()
    for name, cells in MATRIX.items():
        assert tuple(rows[name][2 : 2 + len(ROLES)]) == cells, name
    # The other rows are tested where their services are: tests/test_lifecycle_publicity.py, test_corrections.py.
    for name in set(rows) - set(MATRIX):
        assert re.search(r"`(publicity|review|corrections)\.[a-z_.]+`", rows[name][-1]), name


def test_every_matrix_transition_starts_from_a_state_the_model_allows():
    transitions = fsm_transitions()
    for name, service in SERVICES.items():
        assert service.source in transitions[name][0]


# ---------------------------------------------------------------- the world the cells act in


@pytest.fixture
def world(authorities, open_windows):
    """A record's owner and six other kinds of actor, around records of 渝中区 (500103)."""
    own, other = authorities["500103"], authorities["500106"]
    owner = make_enterprise_user()
    world = SimpleNamespace(own=own, other=other, owner=owner, enterprise=owner.membership.enterprise)
    world.actors = {
        OWNER: Actor(owner, "192.0.2.10"),
        OTHER_ENTERPRISE: Actor(make_enterprise_user(), "192.0.2.11"),
        REVIEWER: Actor(make_reviewer(own), "192.0.2.12"),
        OTHER_REVIEWER: Actor(make_reviewer(other), "192.0.2.13"),
        CITY: Actor(make_city_user(), "192.0.2.14"),
        PUBLIC: Actor(AnonymousUser(), "203.0.113.7"),
        SYSTEM: Actor(AnonymousUser(), None),
    }
    return world


def record_in(world, state: str) -> Project:
    """A clean record of the world's enterprise, brought to `state` through the services where they exist."""
    project = make_project(world.enterprise, world.owner, world.own)
    owner, reviewer = world.actors[OWNER], world.actors[REVIEWER]
    if state == Status.DRAFT:
        return project
    if state in (Status.OBJECTED, Status.ENTERING, Status.IN_NATIONAL_LIBRARY):
        # Reached through the publicity services; here written to the row, the one bypass.
        Project.objects.filter(pk=project.pk).update(status=state)
        return Project.objects.get(pk=project.pk)
    project_services.submit_project(actor=owner, project=project)
    if state == Status.RETURNED:
        review_services.return_for_revision(actor=reviewer, project=project, comments=RETURN_COMMENTS)
    elif state == Status.REJECTED:
        review_services.reject(actor=reviewer, project=project, ground="false_information", reason="材料虚假")
    elif state == Status.IN_NOTICE:
        review_services.approve(actor=reviewer, project=project)
    project = Project.objects.get(pk=project.pk)
    assert project.status == state
    return project


def traces(project) -> dict:
    """Everything a transition may leave behind, except the audit trail (counted separately)."""
    return {
        "record": Project.objects.filter(pk=project.pk).values().get(),
        "decisions": ReviewDecision.objects.count(),
        "versions": SubmissionVersion.objects.count(),
        "comments": list(ReviewComment.objects.order_by("id").values_list("id", "settled_by_version")),
        "notifications": Notification.objects.count(),
        "notices": Notice.objects.count(),
        "snapshots": Snapshot.objects.count(),
    }


def assert_refused(
    service, actor, project, capture, mailoutbox, expected=(PermissionDenied, RecordLocked), **extra
):
    """The service refuses with a Chinese message and leaves nothing behind but one `.refused` event."""
    before, since = traces(project), last_event_id()
    with capture(execute=True):
        with pytest.raises(expected) as refused:
            service(actor, project, **extra)
    message = str(refused.value)
    assert CHINESE.search(message), message
    assert traces(project) == before
    assert mailoutbox == []
    events = list(AuditEvent.objects.filter(id__gt=since))
    assert [e.action for e in events] == [f"{service.action}.refused"]
    [event] = events
    user = actor.user if actor.user.is_authenticated else None
    assert (event.project_id, event.actor, event.message) == (project.pk, user, message)
    assert event.ip_address == actor.ip_address
    return refused.value


# ---------------------------------------------------------------- role × transition, cell by cell

CELLS = [(name, role, MATRIX[name][i]) for name in MATRIX for i, role in enumerate(ROLES)]


@pytest.mark.parametrize(
    "name,role",
    [(name, role) for name, role, cell in CELLS if cell == Y],
    ids=[f"{name}-{role}" for name, role, cell in CELLS if cell == Y],
)
def test_an_allowed_cell_moves_the_record_and_leaves_every_trace(
    world, name, role, django_capture_on_commit_callbacks, mailoutbox
):
    service, actor = SERVICES[name], world.actors[role]
    project = record_in(world, service.source)
    before, since = traces(project), last_event_id()
    _, target = fsm_transitions()[name]

    with django_capture_on_commit_callbacks(execute=True):
        result = service(actor, project)
        assert mailoutbox == []  # not before the commit

    project.refresh_from_db()
    assert result.status == project.status == target
    events = list(AuditEvent.objects.filter(id__gt=since))
    assert not [e for e in events if e.action.endswith(".refused")]
    [event] = [e for e in events if e.action == service.action]
    assert (event.project_id, event.actor, event.ip_address) == (project.pk, actor.user, actor.ip_address)
    assert event.changes["status"] == [service.source, target]
    assert event.organisation and CHINESE.search(event.organisation)

    after = traces(project)
    new_versions = after["versions"] - before["versions"]
    assert new_versions == (1 if name == "submit" else 0)
    new_decisions = list(ReviewDecision.objects.filter(project=project))
    notified = list(Notification.objects.filter(project=project))
    if service.decision:
        [decision] = new_decisions
        assert (decision.decision, decision.reviewer) == (service.decision, actor.user)
        assert decision.version == project.versions.order_by("-number").first()
        [notification] = notified
        assert notification.recipient == world.owner and project.name in notification.title
        [mail] = mailoutbox
        assert mail.to == [world.owner.email] and notification.title in mail.subject
        assert project.project_number in mail.body
    else:
        assert new_decisions == [] and notified == [] and mailoutbox == []
    if name == "approve":
        assert Notice.objects.filter(project=project).count() == 1  # the hook publicity starts from
    if name == "return_for_revision":
        assert ReviewComment.objects.filter(project=project, settled_by_version=None).count() == 2


@pytest.mark.parametrize(
    "name,role",
    [(name, role) for name, role, cell in CELLS if cell == N],
    ids=[f"{name}-{role}" for name, role, cell in CELLS if cell == N],
)
def test_a_refused_cell_leaves_no_trace_but_the_refusal(
    world, name, role, django_capture_on_commit_callbacks, mailoutbox
):
    service = SERVICES[name]
    project = record_in(world, service.source)

    assert_refused(
        service, world.actors[role], project, django_capture_on_commit_callbacks, mailoutbox, PermissionDenied
    )


# ---------------------------------------------------------------- transitions from the wrong state

ALLOWED_ROLE = {name: ROLES[cells.index(Y)] for name, cells in MATRIX.items()}
WRONG_STATES = [
    (name, state) for name in SERVICES for state in Status.values if state not in fsm_transitions()[name][0]
]


@pytest.mark.parametrize("name,state", WRONG_STATES, ids=[f"{n}-from-{s}" for n, s in WRONG_STATES])
def test_a_transition_from_a_state_it_does_not_leave_is_refused(
    world, name, state, django_capture_on_commit_callbacks, mailoutbox
):
    """Approve a draft, withdraw a returned record, reject twice, anything after a rejection (final) …"""
    project = record_in(world, state)

    refusal = assert_refused(
        SERVICES[name],
        world.actors[ALLOWED_ROLE[name]],
        project,
        django_capture_on_commit_callbacks,
        mailoutbox,
        RecordLocked,
    )

    assert f"“{Status(state).label}”" in str(refusal)


def test_the_wrong_state_cases_include_the_ones_named_in_the_rules():
    for case in [
        ("approve", Status.DRAFT),
        ("withdraw", Status.RETURNED),
        ("withdraw", Status.IN_NOTICE),
        ("reject", Status.REJECTED),
        ("submit", Status.REJECTED),
        ("approve", Status.IN_NOTICE),
    ]:
        assert case in WRONG_STATES


# ---------------------------------------------------------------- stale pages


def test_a_decision_on_a_page_opened_before_the_enterprise_withdrew_is_refused(
    world, django_capture_on_commit_callbacks, mailoutbox
):
    project = record_in(world, Status.SUBMITTED)
    project_services.withdraw_project(actor=world.actors[OWNER], project=project)

    refusal = assert_refused(
        SERVICES["approve"],
        world.actors[REVIEWER],
        project,
        django_capture_on_commit_callbacks,
        mailoutbox,
        RecordLocked,
        expected_status=Status.SUBMITTED,
    )

    assert "已变为“草稿”" in str(refusal) and "可能已有其他人处理" in str(refusal)


def test_a_second_reviewer_deciding_after_the_first_is_told_the_state_changed(
    world, authorities, django_capture_on_commit_callbacks, mailoutbox
):
    project = record_in(world, Status.SUBMITTED)
    colleague = Actor(make_reviewer(world.own), "192.0.2.20")
    review_services.approve(actor=colleague, project=project, expected_status=Status.SUBMITTED)

    refusal = assert_refused(
        SERVICES["return_for_revision"],
        world.actors[REVIEWER],
        project,
        django_capture_on_commit_callbacks,
        mailoutbox,
        RecordLocked,
        expected_status=Status.SUBMITTED,
    )

    assert "已变为“公示中”" in str(refusal)
    assert ReviewDecision.objects.filter(project=project).count() == 1


def test_a_stale_page_is_refused_even_when_the_transition_would_still_be_possible(
    world, django_capture_on_commit_callbacks, mailoutbox
):
    """A tab opened on the draft cannot submit the record returned meanwhile: its comments were never seen."""
    project = record_in(world, Status.RETURNED)

    refusal = assert_refused(
        SERVICES["submit"],
        world.actors[OWNER],
        project,
        django_capture_on_commit_callbacks,
        mailoutbox,
        RecordLocked,
        expected_status=Status.DRAFT,
    )

    assert "已变为“退回修改”" in str(refusal) and "您打开页面时为“草稿”" in str(refusal)


# ---------------------------------------------------------------- resubmission and windows


def test_a_resubmission_settles_the_comments_of_the_return(world):
    project = record_in(world, Status.RETURNED)
    open_comments = set(ReviewComment.objects.filter(project=project).values_list("id", flat=True))
    assert len(open_comments) == 2

    project_services.submit_project(
        actor=world.actors[OWNER], project=project, expected_status=Status.RETURNED
    )

    project.refresh_from_db()
    assert project.status == Status.SUBMITTED
    version = project.versions.get(number=2)
    settled = ReviewComment.objects.filter(project=project, settled_by_version=version)
    assert set(settled.values_list("id", flat=True)) == open_comments
    assert AuditEvent.objects.filter(
        project=project, action="project.submit", message__contains="第2次"
    ).exists()


def close_window(kind=EnterpriseKind.CONSTRUCTION):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    BackfillWindow.objects.filter(enterprise_kind=kind).update(
        opens_on=datetime.date(2018, 1, 1), closes_on=yesterday
    )


def test_a_record_returned_after_its_window_closed_may_still_be_resubmitted(world):
    project = record_in(world, Status.RETURNED)
    first = timezone.now() - datetime.timedelta(days=3)
    Project.objects.filter(pk=project.pk).update(first_submitted_at=first)  # first submitted in the window
    close_window()  # … which closed yesterday

    project_services.submit_project(actor=world.actors[OWNER], project=project)

    project.refresh_from_db()
    assert project.status == Status.SUBMITTED and project.versions.count() == 2


def test_a_first_submission_after_the_window_closed_is_refused_with_the_dates_and_audited(
    world, django_capture_on_commit_callbacks, mailoutbox
):
    project = record_in(world, Status.DRAFT)
    close_window()
    before, since = traces(project), last_event_id()

    with pytest.raises(project_services.RuleViolation) as refused:
        project_services.submit_project(actor=world.actors[OWNER], project=project)

    [finding] = refused.value.findings
    assert finding.code == "SCOPE-7" and "2018年01月01日" in finding.message
    assert traces(project) == before
    [event] = AuditEvent.objects.filter(id__gt=since)
    assert (event.action, event.actor, event.message) == (
        "project.submit.refused",
        world.owner,
        finding.message,
    )


# ---------------------------------------------------------------- the bypasses


def test_the_status_field_cannot_be_set_on_an_instance(world):
    project = record_in(world, Status.DRAFT)

    with pytest.raises(AttributeError):
        project.status = Status.IN_NATIONAL_LIBRARY

    assert Project.objects.get(pk=project.pk).status == Status.DRAFT


def test_a_queryset_update_is_the_only_way_around_the_lifecycle_and_it_writes_no_audit_event(world):
    project = record_in(world, Status.DRAFT)
    since = last_event_id()

    Project.objects.filter(pk=project.pk).update(status=Status.IN_NATIONAL_LIBRARY)

    assert Project.objects.get(pk=project.pk).status == Status.IN_NATIONAL_LIBRARY
    assert last_event_id() == since


def test_a_transition_saved_from_a_stale_instance_raises_concurrent_transition(world):
    """ConcurrentTransitionMixin: the second line behind the services' row locks."""
    project = record_in(world, Status.SUBMITTED)
    first, second = Project.objects.get(pk=project.pk), Project.objects.get(pk=project.pk)
    with transaction.atomic():
        first.approve()
        first.save()

    with pytest.raises(ConcurrentTransition), transaction.atomic():
        second.return_for_revision()
        second.save()

    assert Project.objects.get(pk=project.pk).status == Status.IN_NOTICE
