"""The rule engine on a design record (渝建〔2018〕103号; docs/design-projects.md): every rule that checks a design
record has a case that breaks it and one that keeps it, each starting from the clean design record of
tests/builders.py and changing one thing. test_every_design_rule_has_its_cases fails when a rule checking design
records is added without them. Also: a construction enterprise may not start a design record and vice versa."""

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from projects import rules, services
from projects.audit import Actor
from projects.models import (
    STAGE_MODELS,
    AuditEvent,
    BackfillWindow,
    Evidence,
    EvidencePart,
    Project,
    ProjectKind,
    ProjectType,
    Status,
)
from tests.builders import (
    DESIGNER_ID,
    credit_code,
    make_design_enterprise_user,
    make_design_project,
    make_enterprise_user,
    make_project,
)

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u4e00-\u9fff]")
ERROR, WARNING = rules.Severity.ERROR, rules.Severity.WARNING
P, DR, CT, TD = rules.PROJECT, "drawing_review", "contract", "tendering"
OTHER_CODE = credit_code("91500105MA7654321")


@pytest.fixture
def world(yuzhong, open_windows):
    user = make_design_enterprise_user()
    enterprise = user.membership.enterprise
    project = make_design_project(enterprise, user, yuzhong)
    return SimpleNamespace(project=project, user=user, enterprise=enterprise, authority=yuzhong)


def findings_of(project, candidate=None):
    return rules.evaluate(rules.load_project(project.pk), candidate=candidate)


def set_project(project, **values):
    Project.objects.filter(pk=project.pk).update(**values)


def set_stage(project, code, **values):
    STAGE_MODELS[code].objects.filter(project=project).update(**values)


def candidate(project, code, **values):
    stage = STAGE_MODELS[code].objects.get(project=project)
    for name, value in values.items():
        setattr(stage, name, value)
    return stage


def _designer(**changes):
    person = {
        "name": "王设计",
        "id_type": "1",
        "id_number": DESIGNER_ID,
        "registration_type": "注册建筑师",
        "registration_level": "一级",
        "role": "项目负责人",
    }
    return [{**person, **changes}]


def _delete(w, code):
    STAGE_MODELS[code].objects.filter(project=w.project).delete()


def _archive(w, stage, part=""):
    Evidence.objects.filter(project=w.project, stage=stage, part=part).update(archived_at=timezone.now())


def _close_window(w, **project_values):
    if project_values:
        set_project(w.project, **project_values)
    BackfillWindow.objects.filter(enterprise_kind=w.enterprise.kind).update(
        opens_on=timezone.localdate() - datetime.timedelta(days=30),
        closes_on=timezone.localdate() - datetime.timedelta(days=1),
    )


def _cutoff(w, day):
    BackfillWindow.objects.filter(enterprise_kind=w.enterprise.kind).update(drawings_reviewed_by=day)


@dataclass(frozen=True)
class Case:
    break_it: Callable
    at: tuple[str, str, str]
    keep_it: Callable = lambda w: None


CASES = {
    # the rules shared with construction records
    "SCOPE-1": Case(
        lambda w: set_project(w.project, county_code="110101"),
        (ERROR, P, "county_code"),
        lambda w: set_project(w.project, county_code="500235"),
    ),
    "SCOPE-4": Case(
        lambda w: set_project(w.project, already_in_national_library=True),
        (ERROR, P, "already_in_national_library"),
    ),
    "SCOPE-6": Case(lambda w: set_project(w.project, is_classified=True), (ERROR, P, "is_classified")),
    "SCOPE-7": Case(
        lambda w: _close_window(w),
        (ERROR, P, ""),
        # a record first submitted within the window may be resubmitted after it closed
        lambda w: _close_window(w, first_submitted_at=timezone.now() - datetime.timedelta(days=3)),
    ),
    "TRUTH-4": Case(
        lambda w: candidate(w.project, CT, signed_on=timezone.localdate() + datetime.timedelta(days=1)),
        (ERROR, CT, "signed_on"),
    ),
    "TRUTH-5": Case(
        lambda w: candidate(
            w.project,
            CT,
            filing_number=STAGE_MODELS[CT]
            .objects.get(project=make_design_project(w.enterprise, w.user, w.authority))
            .filing_number,
        ),
        (ERROR, CT, "filing_number"),
    ),
    "LEGAL-1": Case(lambda w: set_project(w.project, project_number="5001"), (ERROR, P, "project_number")),
    "LEGAL-2": Case(
        lambda w: candidate(w.project, DR, design_enterprise_credit_code="91500103MA00000000"),
        (ERROR, DR, "design_enterprise_credit_code"),
    ),
    "LEGAL-5": Case(
        lambda w: candidate(w.project, DR, certificate_number=" 渝设审001"), (ERROR, DR, "certificate_number")
    ),
    "LOGIC-1": Case(
        # contract ≤ review completion
        lambda w: candidate(w.project, DR, completed_on=datetime.date(2016, 2, 10)),
        (ERROR, DR, "completed_on"),
        lambda w: candidate(w.project, DR, completed_on=datetime.date(2016, 2, 20)),  # the same day
    ),
    "LOGIC-3": Case(
        lambda w: candidate(w.project, CT, amount=STAGE_MODELS[CT].objects.get(project=w.project).amount * 2),
        (WARNING, CT, "amount"),
    ),
    "NAT-2": Case(lambda w: candidate(w.project, CT, contract_type="999"), (ERROR, CT, "contract_type")),
    # the design record's own
    "DTRUTH-1": Case(
        lambda w: _delete(w, DR),
        (ERROR, DR, ""),
        # the tender is optional
        lambda w: _delete(w, TD),
    ),
    "DTRUTH-2": Case(
        lambda w: candidate(w.project, DR, designers=[]),
        (ERROR, DR, "designers"),
        lambda w: candidate(w.project, DR, survey_enterprise_name="", survey_enterprise_credit_code=""),
    ),
    "DTRUTH-3": Case(
        lambda w: _archive(w, DR, EvidencePart.COVER_SHEET),
        (ERROR, DR, "evidence"),
        # no tender, no tender evidence needed
        lambda w: _delete(w, TD) or _archive(w, TD),
    ),
    "DSCOPE-1": Case(
        lambda w: set_project(w.project, project_type=ProjectType.BUILDING_GENERAL),
        (ERROR, P, "project_type"),
        lambda w: set_project(w.project, project_type=ProjectType.MUNICIPAL_WORKS),
    ),
    "DSCOPE-2": Case(
        lambda w: candidate(w.project, DR, completed_on=datetime.date(2018, 7, 1)),
        (ERROR, DR, "completed_on"),
        # the city moved the cut-off (data, like the window)
        lambda w: (
            _cutoff(w, datetime.date(2018, 9, 30))
            or candidate(w.project, DR, completed_on=datetime.date(2018, 7, 1))
        ),
    ),
    "DSCOPE-3": Case(
        lambda w: candidate(w.project, CT, contract_type="301"),
        (ERROR, CT, "contract_type"),
        lambda w: candidate(w.project, CT, contract_type="100"),  # a survey contract
    ),
    "DLINK-1": Case(
        lambda w: (
            set_stage(w.project, CT, contractor_credit_code=OTHER_CODE)
            or candidate(w.project, DR, design_enterprise_credit_code=OTHER_CODE)
        ),
        (ERROR, CT, "contractor_credit_code"),
        # the contract names another contractor, but the certificate names the enterprise as design unit
        lambda w: candidate(w.project, CT, contractor_credit_code=OTHER_CODE),
    ),
    "DLOGIC-1": Case(
        lambda w: candidate(w.project, DR, first_review_violations=""),
        (ERROR, DR, "first_review_violations"),
        lambda w: candidate(
            w.project,
            DR,
            first_review_violation_count=0,
            first_review_violations="",
            passed_first_review=True,
        ),
    ),
    "DLEGAL-1": Case(
        lambda w: candidate(w.project, DR, review_agency_credit_code="91500103MC00000000"),
        (ERROR, DR, "review_agency_credit_code"),
    ),
    "DLEGAL-2": Case(
        lambda w: candidate(w.project, DR, designers=_designer(id_number=DESIGNER_ID[:-1] + "0")),
        (ERROR, DR, "designers"),
        # a passport is checked by the national format, not as a resident ID
        lambda w: candidate(w.project, DR, designers=_designer(id_type="3", id_number="E12345678")),
    ),
}


def test_every_design_rule_has_its_cases():
    assert set(CASES) == {r.code for r in rules.RULES if ProjectKind.DESIGN in r.kinds}


def test_the_builder_design_record_passes_every_rule(world):
    assert findings_of(world.project) == []


@pytest.mark.parametrize("code", sorted(CASES))
def test_it_flags_a_design_record_that_breaks_the_rule(world, code):
    case = CASES[code]
    found = [f for f in findings_of(world.project, case.break_it(world)) if f.code == code]
    assert found, f"{code} did not flag its breaking case"
    assert (found[0].severity, found[0].stage, found[0].field) == case.at
    assert found[0].category == rules.rules_by_code()[code].category
    assert all(CJK.search(f.message) for f in found)


@pytest.mark.parametrize("code", sorted(CASES))
def test_it_keeps_quiet_about_a_design_record_that_keeps_the_rule(world, code):
    assert code not in {f.code for f in findings_of(world.project, CASES[code].keep_it(world))}


def test_construction_only_rules_leave_a_design_record_alone(world):
    """A design record has no registration, permit or completion: their rules do not ask for them."""
    assert not {f.code for f in findings_of(world.project)} & {"TRUTH-1", "SCOPE-2", "SCOPE-3", "NAT-1"}


def test_design_rules_leave_a_construction_record_alone(yuzhong, open_windows):
    user = make_enterprise_user()
    project = make_project(user.membership.enterprise, user, yuzhong)
    assert findings_of(project) == []


def test_a_bad_designer_line_is_refused_on_save_with_the_person_named(world):
    actor = Actor(user=world.user, ip_address="127.0.0.1")
    with pytest.raises(services.RuleViolation) as refused:
        services.save_stage(
            actor=actor,
            project=world.project,
            stage_code=DR,
            data={"designers": _designer(role="画图的")},
        )
    assert any("王设计" in f.message and "承担角色" in f.message for f in refused.value.findings)
    assert STAGE_MODELS[DR].objects.get(project=world.project).designers[0]["role"] == "项目负责人"


# ---------------------------------------------------------------- who may start which kind of record

BASIC = {
    "authority": None,
    "county_code": "500103",
    "name": "某设计项目",
    "address": "重庆市渝中区",
    "project_type": ProjectType.BUILDING_WORKS,
    "is_classified": False,
    "already_in_national_library": False,
}


def test_a_design_enterprise_starts_a_design_record(yuzhong, open_windows):
    user = make_design_enterprise_user()
    project = services.create_project(
        actor=Actor(user=user, ip_address="127.0.0.1"),
        data={**BASIC, "authority": yuzhong, "kind": ProjectKind.DESIGN},
    )
    assert project.kind == ProjectKind.DESIGN and project.stage_codes == [TD, CT, DR]


@pytest.mark.parametrize(
    ("maker", "kind", "words"),
    [
        (make_enterprise_user, ProjectKind.DESIGN, "建筑企业不能补录设计项目"),
        (make_design_enterprise_user, ProjectKind.CONSTRUCTION, "勘察设计企业不能补录施工项目"),
    ],
)
def test_an_enterprise_may_not_start_the_other_kind_of_record(yuzhong, open_windows, maker, kind, words):
    user = maker()
    count = Project.objects.count()
    with pytest.raises(PermissionDenied, match=words):
        services.create_project(
            actor=Actor(user=user, ip_address="127.0.0.1"), data={**BASIC, "authority": yuzhong, "kind": kind}
        )
    assert Project.objects.count() == count
    refusal = AuditEvent.objects.order_by("-id").first()
    assert refusal.action == "project.create.refused" and words in refusal.message


def test_a_submitted_design_record_is_locked_like_any_other(world):
    set_project(world.project, status=Status.SUBMITTED)
    with pytest.raises(services.RecordLocked):
        services.save_stage(
            actor=Actor(user=world.user, ip_address="127.0.0.1"),
            project=world.project,
            stage_code=DR,
            data={"designers": []},
        )
