"""The publicity rows of docs/lifecycle.md's role × transition table, cell by cell (tests/test_lifecycle.py has the
review rows and the shared world).

- receive_objection: the objection form is public and asks nobody who they are, so every person, logged in or not,
  objects as the public; no code path lets the system object.
- dismiss_objection / uphold_objection: a reviewer of the record's authority; everyone else is refused with a
  Chinese message, and the refusal is the only trace.
- close_notice / enter_national_library: the system alone (the beat sweep, the delivery task). Their services take
  no actor at all, and no URL leads to them.
"""

import datetime
import inspect

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import get_resolver

from projects.models import AuditEvent, Project, ReviewComment, Status
from publicity import services as publicity_services
from publicity.models import Notice, NoticeState, Objection, ObjectionStatus, OutboxMessage

from . import test_lifecycle
from .test_lifecycle import (
    CHINESE,
    DOC,
    ROLES,
    N,
    Y,
    documented_rows,
    fsm_transitions,
    last_event_id,
    record_in,
)

world = test_lifecycle.world  # the fixture: a record's owner and six other kinds of actor

NO_PATH = "—"

# fmt: off
PUBLICITY_MATRIX = {
    #                      owner other rev-own rev-other city public system
    "receive_objection":      (Y,  Y,    Y,      Y,        Y,   Y,     NO_PATH),
    "dismiss_objection":      (N,  N,    Y,      N,        N,   N,     N),
    "uphold_objection":       (N,  N,    Y,      N,        N,   N,     N),
    "close_notice":           (NO_PATH, NO_PATH, NO_PATH, NO_PATH, NO_PATH, NO_PATH, Y),
    "enter_national_library": (NO_PATH, NO_PATH, NO_PATH, NO_PATH, NO_PATH, NO_PATH, Y),
}
# fmt: on

SERVICE_NAMES = {
    "receive_objection": "publicity.services.file_objection",
    "dismiss_objection": "publicity.services.dismiss_objection",
    "uphold_objection": "publicity.services.uphold_objection",
    "close_notice": "publicity.services.close_expired_notices",
    "enter_national_library": "publicity.services.mark_delivered",
}


def test_the_document_rows_are_the_matrix_tested_here():
    _, rows = documented_rows()
    for name, cells in PUBLICITY_MATRIX.items():
        assert tuple(rows[name][2 : 2 + len(ROLES)]) == cells, name
        assert rows[name][-1] == f"`{SERVICE_NAMES[name]}`", name
    assert "— = no code path" in DOC.read_text(encoding="utf-8")


# ---------------------------------------------------------------- receive_objection: anyone, as the public


def people():
    """Every role that is a person, with the client logged in as that person (or anonymous)."""
    return [
        role for role, cell in zip(ROLES, PUBLICITY_MATRIX["receive_objection"], strict=True) if cell == Y
    ]


@pytest.mark.parametrize("role", people())
def test_anyone_objects_through_the_public_form_as_the_public(world, role, client):
    project = record_in(world, Status.IN_NOTICE)
    notice = Notice.objects.get(project=project)
    user = world.actors[role].user
    if user.is_authenticated:
        client.force_login(user)
    since = last_event_id()

    response = client.post(
        f"/notices/{notice.pk}/",
        {"name": "张三", "contact": "13800000000", "reason": "该项目的竣工日期与实际不符。"},
    )

    assert response.status_code in (200, 302), response.content[:500]
    project.refresh_from_db()
    assert project.status == Status.OBJECTED
    [objection] = Objection.objects.filter(notice=notice)
    [event] = AuditEvent.objects.filter(id__gt=since, action="objection.receive")
    # The form does not ask who is objecting: the event names no user, whoever was logged in.
    assert event.actor is None and event.changes["status"] == [Status.IN_NOTICE, Status.OBJECTED]
    assert objection.reference in event.message


def test_no_code_path_lets_the_system_object():
    """file_objection is reached only from the public form's view; no task or sweep calls it."""
    callers = [
        module
        for module in ("publicity.tasks", "publicity.services", "review.services")
        if "file_objection("
        in inspect.getsource(__import__(module, fromlist=["x"])).replace("def file_objection(", "")
    ]
    assert callers == []


# ---------------------------------------------------------------- dismiss / uphold: the record's reviewers only


@pytest.fixture
def objected(world):
    project = record_in(world, Status.IN_NOTICE)
    notice = Notice.objects.get(project=project)
    objection = publicity_services.file_objection(
        notice_id=notice.pk, name="李四", contact="lisi@example.com", reason="中标单位与合同单位不一致。"
    )
    project.refresh_from_db()
    assert project.status == Status.OBJECTED
    return project, objection


HANDLERS = {
    "dismiss_objection": (publicity_services.dismiss_objection, "objection.dismiss", Status.IN_NOTICE),
    "uphold_objection": (publicity_services.uphold_objection, "objection.uphold", Status.RETURNED),
}
HANDLING_CELLS = [
    (name, role, cell) for name in HANDLERS for role, cell in zip(ROLES, PUBLICITY_MATRIX[name], strict=True)
]


def objection_traces(project, objection) -> dict:
    return {
        "record": Project.objects.filter(pk=project.pk).values().get(),
        "notice": Notice.objects.filter(project=project).values().get(),
        "objection": Objection.objects.filter(pk=objection.pk).values().get(),
        "comments": ReviewComment.objects.filter(project=project).count(),
    }


@pytest.mark.parametrize(
    "name,role",
    [(n, r) for n, r, c in HANDLING_CELLS if c == Y],
    ids=[f"{n}-{r}" for n, r, c in HANDLING_CELLS if c == Y],
)
def test_an_allowed_objection_cell_moves_the_record_and_audits_it(
    world, objected, name, role, django_capture_on_commit_callbacks
):
    project, objection = objected
    service, action, target = HANDLERS[name]
    actor = world.actors[role]
    since = last_event_id()

    with django_capture_on_commit_callbacks(execute=True):
        service(actor=actor, objection_id=objection.pk, outcome="经核实，处理如下。")

    project.refresh_from_db()
    objection.refresh_from_db()
    assert project.status == target
    assert objection.status != ObjectionStatus.PENDING and objection.handled_by == actor.user
    [event] = AuditEvent.objects.filter(id__gt=since, action=action)
    assert (event.actor, event.ip_address) == (actor.user, actor.ip_address)
    assert event.changes["status"] == [Status.OBJECTED, target]


@pytest.mark.parametrize(
    "name,role",
    [(n, r) for n, r, c in HANDLING_CELLS if c == N],
    ids=[f"{n}-{r}" for n, r, c in HANDLING_CELLS if c == N],
)
def test_a_refused_objection_cell_leaves_no_trace_but_the_refusal(world, objected, name, role):
    project, objection = objected
    service, action, _ = HANDLERS[name]
    actor = world.actors[role]
    before, since = objection_traces(project, objection), last_event_id()

    with pytest.raises(PermissionDenied) as refused:
        service(actor=actor, objection_id=objection.pk, outcome="越权处理")

    assert CHINESE.search(str(refused.value))
    assert objection_traces(project, objection) == before
    [event] = AuditEvent.objects.filter(id__gt=since)
    user = actor.user if actor.user.is_authenticated else None
    assert (event.action, event.actor, event.message) == (f"{action}.refused", user, str(refused.value))


# ---------------------------------------------------------------- close_notice / enter_national_library: the system


@pytest.mark.parametrize("name", ["close_notice", "enter_national_library"])
def test_the_system_transitions_take_no_actor_and_no_url_leads_to_them(name):
    function = {
        "close_notice": publicity_services.close_expired_notices,
        "enter_national_library": (publicity_services.mark_delivered),
    }[name]
    assert "actor" not in inspect.signature(function).parameters
    # Every view a URL leads to (the resolver's reverse index is keyed by view callables and by names).
    resolvers = [get_resolver(), *(resolver for _prefix, resolver in get_resolver().namespace_dict.values())]
    view_modules = {view.__module__ for r in resolvers for view in r.reverse_dict.keys() if callable(view)}
    assert "publicity.views" in view_modules and "projects.views" in view_modules
    for module in view_modules:
        source = inspect.getsource(__import__(module, fromlist=["x"]))
        assert function.__name__ not in source, module


def test_the_system_closes_an_ended_notice_and_enters_the_record(world):
    project = record_in(world, Status.IN_NOTICE)
    notice = Notice.objects.get(project=project)
    since = last_event_id()

    closed = publicity_services.close_expired_notices(now=notice.ends_at + datetime.timedelta(seconds=1))

    assert closed == 1
    project.refresh_from_db()
    assert project.status == Status.ENTERING
    [message] = OutboxMessage.objects.filter(project=project)
    assert Notice.objects.get(pk=notice.pk).state == NoticeState.CLOSED

    publicity_services.mark_delivered(message.pk, "CQ-TEST-0001")

    project.refresh_from_db()
    assert project.status == Status.IN_NATIONAL_LIBRARY
    events = AuditEvent.objects.filter(id__gt=since, project=project).exclude(changes__status=None)
    assert [(e.actor, e.changes["status"]) for e in events.order_by("id")] == [
        (None, [Status.IN_NOTICE, Status.ENTERING]),
        (None, [Status.ENTERING, Status.IN_NATIONAL_LIBRARY]),
    ]


def test_every_publicity_transition_is_one_the_model_declares():
    transitions = fsm_transitions()
    assert set(PUBLICITY_MATRIX) <= set(transitions)
