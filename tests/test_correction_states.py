"""The correction request's state machine (docs/corrections.md, "The process"): the status moves only through the
model's transitions, each from the states the process allows. The services that call them are tested in
tests/test_corrections.py (who may act, the audit, the notifications)."""

import pytest
from django.db.models import Q
from django_fsm import TransitionNotAllowed

from corrections.models import OPEN_CORRECTION_STATUSES, CorrectionRequest, CorrectionStatus

# {transition: (source states, target state)}, as the process in docs/corrections.md draws it.
PROCESS = {
    "accept_at_district": ({CorrectionStatus.FILED}, CorrectionStatus.AT_CITY),
    "decline_at_district": ({CorrectionStatus.FILED}, CorrectionStatus.DISTRICT_DECLINED),
    "approve_at_city": ({CorrectionStatus.AT_CITY}, CorrectionStatus.APPROVED),
    "decline_at_city": ({CorrectionStatus.AT_CITY}, CorrectionStatus.CITY_DECLINED),
    "withdraw": (set(OPEN_CORRECTION_STATUSES), CorrectionStatus.WITHDRAWN),
}

ARGUMENTS = {
    "accept_at_district": {"by": None, "opinion": "属实"},
    "decline_at_district": {"by": None, "opinion": "不属实"},
    "approve_at_city": {"by": None, "opinion": "同意", "result_snapshot": None},
    "decline_at_city": {"by": None, "opinion": "不同意"},
    "withdraw": {},
}


def declared_transitions() -> dict[str, tuple[set, str]]:
    found = {}
    for t in CorrectionRequest._meta.get_field("status").get_all_transitions(CorrectionRequest):
        sources, _ = found.get(t.name, (set(), None))
        found[t.name] = (sources | {t.source}, t.target)
    return found


def test_the_model_declares_the_documented_transitions_and_no_other():
    assert declared_transitions() == PROCESS


def test_the_status_cannot_be_assigned():
    request = CorrectionRequest(status=CorrectionStatus.FILED)

    with pytest.raises(AttributeError):
        request.status = CorrectionStatus.APPROVED

    assert request.status == CorrectionStatus.FILED


@pytest.mark.parametrize(
    ("name", "state"),
    [
        (name, state)
        for name, (sources, _) in PROCESS.items()
        for state in CorrectionStatus
        if state not in sources
    ],
)
def test_each_illegal_transition_is_refused(name, state):
    request = CorrectionRequest(status=state)

    with pytest.raises(TransitionNotAllowed):
        getattr(request, name)(**ARGUMENTS[name])

    assert request.status == state


@pytest.mark.parametrize(
    ("name", "state"), [(name, state) for name, (sources, _) in PROCESS.items() for state in sorted(sources)]
)
def test_each_allowed_transition_reaches_its_state(name, state):
    request = CorrectionRequest(status=state)

    getattr(request, name)(**ARGUMENTS[name])

    assert request.status == PROCESS[name][1]


def test_the_district_and_the_city_record_their_opinion_with_the_transition():
    request = CorrectionRequest(status=CorrectionStatus.FILED)

    request.accept_at_district(by=None, opinion="属实")
    request.decline_at_city(by=None, opinion="依据不足")

    assert (request.district_accepts, request.district_opinion) == (True, "属实")
    assert (request.city_approves, request.city_opinion) == (False, "依据不足")
    assert request.district_at is not None and request.city_at is not None


def test_the_one_open_request_constraint_is_built_from_the_open_states():
    (constraint,) = [
        c for c in CorrectionRequest._meta.constraints if c.name == "one_open_correction_per_project"
    ]

    assert constraint.condition == Q(status__in=list(OPEN_CORRECTION_STATUSES))
