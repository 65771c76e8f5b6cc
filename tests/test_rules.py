"""The rule engine (projects/rules.py) rule by rule, what it refuses on save, and the services that apply it.

Every rule of the registry has a case that breaks it and one that keeps it (a variation that must still pass):
test_every_rule_has_its_cases fails when a rule is added without them. Each breaking case starts from the clean
record of tests/builders.py and changes one thing.
"""

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from projects import rules, services
from projects.audit import Actor
from projects.models import (
    STAGE_MODELS,
    AuditEvent,
    BackfillWindow,
    EnterpriseKind,
    Evidence,
    Project,
    StageCode,
    Status,
    SubmissionVersion,
)
from tests.builders import (
    OWNER_CREDIT_CODE,
    EnterpriseFactory,
    add_evidence,
    credit_code,
    id_number,
    make_enterprise_user,
    make_project,
    valid_stage_data,
)

CJK = re.compile(r"[\u4e00-\u9fff]")
OTHER_CREDIT_CODE = credit_code("91500105MA7654321")  # a valid code of some other enterprise

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture
def user(db):
    return make_enterprise_user()


@pytest.fixture
def enterprise(user):
    return user.membership.enterprise


@pytest.fixture
def actor(user):
    return Actor(user=user, ip_address="127.0.0.1")


@pytest.fixture
def project(enterprise, user, yuzhong, open_windows):
    return make_project(enterprise, user, yuzhong)


@pytest.fixture
def world(project, user, enterprise, yuzhong, open_windows):
    return SimpleNamespace(
        project=project, user=user, enterprise=enterprise, authority=yuzhong, windows=open_windows
    )


def findings_of(project, candidate=None):
    return rules.evaluate(rules.load_project(project.pk), candidate=candidate)


def codes(findings):
    return {f.code for f in findings}


def set_project(project, **values):
    Project.objects.filter(pk=project.pk).update(**values)


def set_stage(project, code, **values):
    """Write straight to the row: no validator, no rule, as an import or a bug might."""
    STAGE_MODELS[code].objects.filter(project=project).update(**values)


def delete_stage(project, code):
    STAGE_MODELS[code].objects.filter(project=project).delete()


def stage_of(project, code):
    return STAGE_MODELS[code].objects.get(project=project)


def candidate(project, code, **values):
    """The saved stage with some fields changed, unsaved: what a form would submit."""
    stage = stage_of(project, code)
    for name, value in values.items():
        setattr(stage, name, value)
    return stage


def is_chinese(text):
    return bool(CJK.search(text))


# ---------------------------------------------------------------- one breaking and one keeping case per rule


@dataclass(frozen=True)
class Case:
    break_it: Callable  # (world) -> an unsaved candidate to evaluate with, or None
    at: tuple[str, str, str]  # the finding's (severity, stage, field)
    keep_it: Callable = lambda w: None  # a variation that must not trigger the rule

    @property
    def severity(self):
        return self.at[0]


ERROR, WARNING = rules.Severity.ERROR, rules.Severity.WARNING
P = rules.PROJECT


def _archive(w, code):
    Evidence.objects.filter(project=w.project, stage=code).update(archived_at=timezone.now())


def _archive_one_of_two(w, code):
    add_evidence(w.project, code, w.user)
    Evidence.objects.filter(pk=Evidence.objects.filter(project=w.project, stage=code).first().pk).update(
        archived_at=timezone.now()
    )


def _window(w, **values):
    BackfillWindow.objects.filter(enterprise_kind=w.enterprise.kind).update(**values)


def _today():
    return timezone.localdate()


def _duplicate_of_another_project(w):
    other = make_project(w.enterprise, w.user, w.authority)
    return candidate(w.project, "completion", filing_number=stage_of(other, "completion").filing_number)


def _issued_on(w):
    return stage_of(w.project, "permit").issued_on


def _started_on_approval_without_permit_stage(w):
    set_project(w.project, start_basis="start_approval")
    delete_stage(w.project, "permit")


def _permit_number(w, number):
    """The same number in the permit stage and the completion filing that cites it."""
    set_stage(w.project, "permit", permit_number=number)
    set_stage(w.project, "completion", permit_number=number)


def _scaled(w, code, name, factor):
    value = getattr(stage_of(w.project, code), name) * Decimal(factor)
    set_stage(w.project, code, **{name: value.quantize(Decimal("0.01"))})


CASES = {
    "SCOPE-1": Case(
        lambda w: set_project(w.project, county_code="110101"),
        (ERROR, P, "county_code"),
        keep_it=lambda w: set_project(w.project, county_code="500235"),  # 云阳县
    ),
    "SCOPE-2": Case(lambda w: set_project(w.project, is_completed=False), (ERROR, P, "is_completed")),
    "SCOPE-3": Case(
        lambda w: set_project(w.project, start_basis="none"),
        (ERROR, P, "start_basis"),
        keep_it=lambda w: set_project(w.project, start_basis="start_approval"),
    ),
    "SCOPE-4": Case(
        lambda w: set_project(w.project, already_in_national_library=True),
        (ERROR, P, "already_in_national_library"),
    ),
    "SCOPE-5": Case(
        lambda w: set_project(w.project, project_type="other"),
        (ERROR, P, "project_type"),
        keep_it=lambda w: set_project(w.project, project_type="specialty"),
    ),
    "SCOPE-6": Case(lambda w: set_project(w.project, is_classified=True), (ERROR, P, "is_classified")),
    "SCOPE-7": Case(
        lambda w: _window(w, closes_on=_today() - datetime.timedelta(days=1)),
        (ERROR, P, ""),
        # both ends of the window count
        keep_it=lambda w: _window(w, opens_on=_today(), closes_on=_today()),
    ),
    "TRUTH-1": Case(
        lambda w: delete_stage(w.project, "tendering"),
        (ERROR, "tendering", ""),
        keep_it=_started_on_approval_without_permit_stage,
    ),
    "TRUTH-2": Case(
        lambda w: set_stage(w.project, "registration", owner_name=""),
        (ERROR, "registration", "owner_name"),
        # an optional field
        keep_it=lambda w: set_stage(w.project, "tendering", tender_agency_name=""),
    ),
    "TRUTH-3": Case(
        lambda w: _archive(w, "contract"),
        (ERROR, "contract", "evidence"),
        keep_it=lambda w: _archive_one_of_two(w, "contract"),
    ),
    "TRUTH-4": Case(
        lambda w: set_stage(w.project, "completion", filed_on=_today() + datetime.timedelta(days=1)),
        (ERROR, "completion", "filed_on"),
        keep_it=lambda w: set_stage(w.project, "completion", filed_on=_today()),
    ),
    "TRUTH-5": Case(
        _duplicate_of_another_project,
        (ERROR, "completion", "filing_number"),
        # its own number, saved again
        keep_it=lambda w: candidate(w.project, "completion"),
    ),
    "LEGAL-1": Case(
        # month 13
        lambda w: set_project(w.project, project_number="5001032113180001"),
        (ERROR, P, "project_number"),
        # a number the project already had, from 2016
        keep_it=lambda w: set_project(w.project, project_number="5001031612310007"),
    ),
    "LEGAL-2": Case(
        lambda w: set_stage(w.project, "contract", employer_credit_code=OWNER_CREDIT_CODE[:-1] + "0"),
        (ERROR, "contract", "employer_credit_code"),
        # optional and blank: nothing to check
        keep_it=lambda w: set_stage(w.project, "contract", employer_credit_code=""),
    ),
    "LEGAL-3": Case(
        lambda w: set_stage(w.project, "permit", chief_supervisor_id_number="510212198609214560"),
        (ERROR, "permit", "chief_supervisor_id_number"),
        keep_it=lambda w: set_stage(w.project, "permit", chief_supervisor_id_number="11010519491231002X"),
    ),
    "LEGAL-4": Case(
        # month 13
        lambda w: _permit_number(w, "500103201613010101"),
        (ERROR, "permit", "permit_number"),
        keep_it=lambda w: _permit_number(w, "500235201607019901"),
    ),
    "LEGAL-5": Case(
        lambda w: set_stage(w.project, "contract", filing_number=" HTBA-2016-0001"),
        (ERROR, "contract", "filing_number"),
        keep_it=lambda w: set_stage(w.project, "contract", filing_number="渝建合备〔2016〕第0001号"),
    ),
    "LOGIC-1": Case(
        # before the registration (2016-03-01)
        lambda w: set_stage(w.project, "tendering", awarded_on=datetime.date(2016, 2, 1)),
        (ERROR, "tendering", "awarded_on"),
        # the same day
        keep_it=lambda w: set_stage(w.project, "tendering", awarded_on=datetime.date(2016, 3, 1)),
    ),
    "LOGIC-2": Case(
        lambda w: set_stage(
            w.project, "completion", actual_start_on=_issued_on(w) - datetime.timedelta(days=1)
        ),
        (ERROR, "completion", "actual_start_on"),
        keep_it=lambda w: set_stage(w.project, "completion", actual_start_on=_issued_on(w)),
    ),
    "LOGIC-3": Case(
        lambda w: _scaled(w, "contract", "amount", "1.2"),
        (WARNING, "contract", "amount"),
        # exactly the tolerance
        keep_it=lambda w: _scaled(w, "contract", "amount", "1.1"),
    ),
    "LOGIC-4": Case(
        lambda w: _scaled(w, "completion", "actual_area", "1.2"),
        (WARNING, "completion", "actual_area"),
        keep_it=lambda w: _scaled(w, "completion", "actual_area", "0.9"),
    ),
    "LINK-1": Case(
        lambda w: set_stage(w.project, "contract", contractor_credit_code=OTHER_CREDIT_CODE),
        (ERROR, "contract", "contractor_credit_code"),
    ),
    "LINK-2": Case(
        lambda w: set_stage(w.project, "permit", drawing_review_certificate_number="渝审字（2016）第9999号"),
        (ERROR, "permit", "drawing_review_certificate_number"),
    ),
    "LINK-3": Case(
        lambda w: set_stage(w.project, "completion", permit_number="500103201607019999"),
        (ERROR, "completion", "permit_number"),
    ),
    "LINK-4": Case(
        lambda w: set_stage(w.project, "permit", works_planning_permit_number="建字第500103201699999号"),
        (ERROR, "permit", "works_planning_permit_number"),
    ),
    "LINK-5": Case(
        lambda w: set_stage(w.project, "tendering", winner_credit_code=OTHER_CREDIT_CODE),
        (WARNING, "tendering", "winner_credit_code"),
    ),
}


def _specialty_in_municipal_works(w):
    set_project(w.project, project_type="specialty")
    set_stage(w.project, "registration", works_category="02")


CASES.update(
    {
        "NAT-1": Case(
            lambda w: set_stage(w.project, "tendering", tender_agency_credit_code=""),
            (ERROR, "tendering", "tender_agency_credit_code"),
            # a direct award names no tender agency
            keep_it=lambda w: set_stage(
                w.project,
                "tendering",
                tender_method="direct",
                tender_agency_name="",
                tender_agency_credit_code="",
            ),
        ),
        "NAT-2": Case(
            # 木结构: in the national site's later list, not in the standard's
            lambda w: set_stage(w.project, "completion", structure_type="016"),
            (ERROR, "completion", "structure_type"),
            keep_it=lambda w: set_stage(w.project, "completion", structure_type="099"),
        ),
        "NAT-3": Case(
            lambda w: set_stage(
                w.project, "permit", chief_supervisor_id_type="3", chief_supervisor_id_number="E1"
            ),
            (ERROR, "permit", "chief_supervisor_id_number"),
            keep_it=lambda w: set_stage(
                w.project, "permit", chief_supervisor_id_type="3", chief_supervisor_id_number="E12345678"
            ),
        ),
        "NAT-5": Case(
            lambda w: set_stage(w.project, "registration", works_category="02"),
            (ERROR, "registration", "works_category"),
            # a specialty contract may belong to municipal works
            keep_it=_specialty_in_municipal_works,
        ),
    }
)


def test_every_rule_has_its_cases():
    """Of a construction record; a design record's are tests/test_design_rules.py's."""
    registered = {r.code for r in rules.RULES if "construction" in r.kinds}
    assert set(CASES) == registered, "a rule without a breaking and a keeping case, or a case without a rule"


def test_the_builder_record_passes_every_rule(project):
    assert findings_of(project) == []


def test_many_builder_records_coexist_and_each_stays_clean(enterprise, user, yuzhong, open_windows):
    projects = [make_project(enterprise, user, yuzhong) for _ in range(5)]
    assert len({p.project_number for p in projects}) == 5
    assert all(findings_of(p) == [] for p in projects)


@pytest.mark.parametrize("code", sorted(CASES))
def test_it_flags_a_record_that_breaks_the_rule(world, code):
    case = CASES[code]
    found = [f for f in findings_of(world.project, case.break_it(world)) if f.code == code]
    assert found, f"{code} did not flag its breaking case"
    finding = found[0]
    assert (finding.severity, finding.stage, finding.field) == case.at
    assert finding.category == rules.rules_by_code()[code].category
    assert is_chinese(finding.message), finding.message
    assert all(is_chinese(f.message) for f in found)


@pytest.mark.parametrize("code", sorted(CASES))
def test_it_keeps_quiet_about_a_record_that_keeps_the_rule(world, code):
    candidate = CASES[code].keep_it(world)
    assert code not in codes(findings_of(world.project, candidate))


def test_every_rule_severity_matches_its_registration():
    """Only LEGAL-4 changes severity per finding (old permit numbers: a warning)."""
    for r in rules.RULES:
        if r.code != "LEGAL-4" and r.code in CASES:
            assert CASES[r.code].severity == r.severity, r.code


# ---------------------------------------------------------------- permit numbers (LEGAL-4)


def test_it_accepts_an_old_local_permit_number_with_a_warning_not_an_error(project):
    old = "[2012]施[渝中]建字0072号"
    set_stage(project, "permit", permit_number=old)
    set_stage(project, "completion", permit_number=old)

    findings = findings_of(project)

    assert {(f.code, f.severity, f.stage, f.field) for f in findings} == {
        ("LEGAL-4", WARNING, "permit", "permit_number"),
        ("LEGAL-4", WARNING, "completion", "permit_number"),
    }
    assert all(old in f.message and "旧版地方格式" in f.message for f in findings)
    assert rules.summarise(findings)["can_submit"] is True


def test_it_refuses_an_18_digit_permit_number_with_an_impossible_date(project):
    set_stage(project, "permit", permit_number="500103201602300101")  # 30 February
    set_stage(project, "completion", permit_number="500103201602300101")

    legal4 = [f for f in findings_of(project) if f.code == "LEGAL-4"]

    assert {(f.stage, f.severity) for f in legal4} == {("permit", ERROR), ("completion", ERROR)}
    assert all("第7至14位不是有效日期" in f.message for f in legal4)


def test_it_saves_a_stage_with_an_old_permit_number_and_returns_the_warning(actor, project):
    old = "[2012]施[渝中]建字0072号"
    save = services.save_stage

    # The permit is the source of its number: it may be renumbered while the completion filing still cites
    # the old one (LINK-3 refuses only a save of the citing stage); the self-check shows the mismatch.
    _stage, warnings = save(actor=actor, project=project, stage_code="permit", data={"permit_number": old})
    assert [(w.code, w.severity, w.stage) for w in warnings] == [("LEGAL-4", WARNING, "permit")]
    assert "LINK-3" in codes(rules.evaluate(project))
    with pytest.raises(services.RuleViolation) as refused:
        save(
            actor=actor,
            project=project,
            stage_code="completion",
            data={"permit_number": "500103201601010101"},
        )
    assert "LINK-3" in codes(refused.value.findings)
    _stage, warnings = save(
        actor=actor, project=project, stage_code="completion", data={"permit_number": old}
    )
    assert [(w.code, w.stage) for w in warnings] == [("LEGAL-4", "completion")]
    assert stage_of(project, "permit").permit_number == stage_of(project, "completion").permit_number == old


# ---------------------------------------------------------------- amounts (LOGIC-3, LOGIC-4)


def test_it_warns_when_the_contract_amount_is_20_percent_off_the_award_with_the_default_tolerance(
    project, settings
):
    assert settings.RULE_CONTRACT_AMOUNT_TOLERANCE == 0.10
    award = stage_of(project, "tendering").award_amount
    set_stage(project, "contract", amount=award * Decimal("0.8"))

    findings = findings_of(project)

    assert [(f.code, f.severity, f.stage, f.field) for f in findings] == [
        ("LOGIC-3", WARNING, "contract", "amount")
    ]
    assert "20%" in findings[0].message and "10%" in findings[0].message
    assert rules.summarise(findings) == {"errors": 0, "warnings": 1, "can_submit": True}


def test_it_reads_the_contract_amount_tolerance_from_settings(project, settings):
    settings.RULE_CONTRACT_AMOUNT_TOLERANCE = 0.25
    _scaled(SimpleNamespace(project=project), "contract", "amount", "1.2")
    assert "LOGIC-3" not in codes(findings_of(project))


# ---------------------------------------------------------------- dates (LOGIC-1, LOGIC-2, TRUTH-4)


def test_it_flags_dates_out_of_order_and_names_both_stages(project):
    # before the drawing review (2016-06-20)
    set_stage(project, "permit", issued_on=datetime.date(2016, 6, 1))

    [finding] = [f for f in findings_of(project) if f.code == "LOGIC-1"]

    assert (finding.stage, finding.field) == ("permit", "issued_on")
    assert set(finding.involves) == {"drawing_review", "permit"}
    assert "2016-06-01" in finding.message and "2016-06-20" in finding.message


def test_a_missing_stage_does_not_hide_an_inversion_around_it(project):
    delete_stage(project, "contract")
    set_stage(project, "drawing_review", completed_on=datetime.date(2016, 4, 1))  # before tendering (04-15)

    [finding] = [f for f in findings_of(project) if f.code == "LOGIC-1"]

    assert (finding.stage, finding.field) == ("drawing_review", "completed_on")


def test_it_flags_completion_dates_out_of_order(project):
    # before the actual start (2017-01-05)
    set_stage(project, "completion", actual_completion_on=datetime.date(2016, 12, 1))

    [finding] = [f for f in findings_of(project) if f.code == "LOGIC-2"]

    assert (finding.stage, finding.field, finding.severity) == ("completion", "actual_completion_on", ERROR)


def test_it_flags_every_future_date(project):
    tomorrow = _today() + datetime.timedelta(days=1)
    set_stage(project, "completion", actual_completion_on=tomorrow, filed_on=tomorrow)

    future = [(f.stage, f.field) for f in findings_of(project) if f.code == "TRUTH-4"]

    assert sorted(future) == [("completion", "actual_completion_on"), ("completion", "filed_on")]


# ---------------------------------------------------------------- document numbers (TRUTH-5)


def test_it_flags_a_document_number_already_used_by_another_project(world):
    other = make_project(world.enterprise, world.user, world.authority)
    number = stage_of(other, "tendering").award_notice_number

    [finding] = [
        f
        for f in findings_of(world.project, candidate(world.project, "tendering", award_notice_number=number))
        if f.code == "TRUTH-5"
    ]

    assert (finding.stage, finding.field, finding.severity) == ("tendering", "award_notice_number", ERROR)
    assert number in finding.message and other.project_number in finding.message


def test_it_does_not_name_another_enterprises_project_that_uses_the_number(world):
    stranger = make_enterprise_user()
    other = make_project(stranger.membership.enterprise, stranger, world.authority)
    number = stage_of(other, "tendering").award_notice_number

    [finding] = [
        f
        for f in findings_of(world.project, candidate(world.project, "tendering", award_notice_number=number))
        if f.code == "TRUTH-5"
    ]

    assert number in finding.message and "其他企业" in finding.message
    assert other.project_number not in finding.message


def test_save_stage_refuses_a_document_number_of_another_project_and_saves_nothing(world, actor):
    other = make_project(world.enterprise, world.user, world.authority)
    number = stage_of(other, "contract").filing_number
    before = stage_of(world.project, "contract").filing_number

    with pytest.raises(ValidationError):
        services.save_stage(
            actor=actor, project=world.project, stage_code="contract", data={"filing_number": number}
        )

    assert stage_of(world.project, "contract").filing_number == before


# ---------------------------------------------------------------- start on an approval instead of a permit


def test_a_project_started_on_an_approval_needs_no_permit_stage_but_the_approval_as_its_evidence(
    enterprise, user, yuzhong, open_windows
):
    codes_but_permit = [c for c in StageCode.values if c != "permit"]
    project = make_project(
        enterprise,
        user,
        yuzhong,
        start_basis="start_approval",
        stages=codes_but_permit,
        evidence=codes_but_permit,
    )

    findings = findings_of(project)
    assert [(f.code, f.stage, f.field) for f in findings] == [("TRUTH-3", "permit", "evidence")]
    assert "同意开工证明材料" in findings[0].message

    add_evidence(project, "permit", user, name="同意开工的批复.pdf")
    assert findings_of(project) == []


def test_a_project_started_on_a_permit_needs_the_permit_stage(enterprise, user, yuzhong, open_windows):
    codes_but_permit = [c for c in StageCode.values if c != "permit"]
    project = make_project(enterprise, user, yuzhong, stages=codes_but_permit, evidence=StageCode.values)

    assert [(f.code, f.stage) for f in findings_of(project)] == [("TRUTH-1", "permit")]


# ---------------------------------------------------------------- the backfill window (SCOPE-7)


def test_it_flags_a_record_when_the_window_has_closed(world):
    _window(world, opens_on=datetime.date(2018, 1, 1), closes_on=datetime.date(2018, 9, 30))

    [finding] = [f for f in findings_of(world.project) if f.code == "SCOPE-7"]

    assert "2018年01月01日" in finding.message and "2018年09月30日" in finding.message
    assert finding.severity == ERROR


def test_it_flags_a_record_when_the_window_has_not_opened(world):
    _window(
        world,
        opens_on=_today() + datetime.timedelta(days=1),
        closes_on=_today() + datetime.timedelta(days=30),
    )
    assert "SCOPE-7" in codes(findings_of(world.project))


def test_it_accepts_a_record_while_the_window_is_open(world):
    assert "SCOPE-7" not in codes(findings_of(world.project))


def test_it_flags_a_record_when_no_window_is_set_for_its_enterprise_kind(world):
    BackfillWindow.objects.filter(enterprise_kind=EnterpriseKind.CONSTRUCTION).delete()

    [finding] = [f for f in findings_of(world.project) if f.code == "SCOPE-7"]

    assert "尚未设置建筑企业的补录时限" in finding.message


def test_it_reads_the_window_of_the_enterprise_kind(world):
    BackfillWindow.objects.exclude(enterprise_kind=EnterpriseKind.CONSTRUCTION).update(
        closes_on=datetime.date(2018, 9, 30)
    )
    assert "SCOPE-7" not in codes(findings_of(world.project))


def test_a_record_first_submitted_within_the_window_may_be_resubmitted_after_it_closed(world):
    _window(world, opens_on=datetime.date(2018, 1, 1), closes_on=datetime.date(2018, 9, 30))
    first = timezone.make_aware(datetime.datetime(2018, 9, 29, 10, 0))
    set_project(world.project, status=Status.RETURNED, first_submitted_at=first)

    assert "SCOPE-7" not in codes(findings_of(world.project))


# ---------------------------------------------------------------- what refuses a save (errors_on_save)


def test_it_refuses_to_save_a_tendering_dated_before_the_registration(project):
    tendering = candidate(project, "tendering", awarded_on=datetime.date(2016, 2, 1))

    errors = rules.errors_on_save(rules.load_project(project.pk), tendering)

    assert [(f.code, f.stage, f.field) for f in errors] == [("LOGIC-1", "tendering", "awarded_on")]


def test_it_refuses_to_save_a_registration_dated_after_the_tendering(project):
    """LOGIC-1 involves both stages: moving the earlier one past the later one is refused too."""
    registration = candidate(project, "registration", registered_on=datetime.date(2016, 5, 1))

    errors = rules.errors_on_save(rules.load_project(project.pk), registration)

    assert "LOGIC-1" in codes(errors)


def test_it_refuses_to_save_a_future_date(project):
    completion = candidate(project, "completion", filed_on=_today() + datetime.timedelta(days=3))
    assert "TRUTH-4" in codes(rules.errors_on_save(rules.load_project(project.pk), completion))


def test_a_missing_evidence_or_field_does_not_refuse_a_save(project):
    """Completeness is for the self-check and submission: a draft may be saved half-filled."""
    _archive(SimpleNamespace(project=project), "tendering")
    tendering = candidate(project, "tendering", tender_method="", project_manager_name="")
    loaded = rules.load_project(project.pk)

    assert {"TRUTH-2", "TRUTH-3"} <= codes(rules.evaluate(loaded, candidate=tendering))
    assert rules.errors_on_save(loaded, tendering) == []


def test_a_warning_does_not_refuse_a_save_but_is_returned(project):
    contract = candidate(project, "contract", amount=Decimal("20000000.00"))
    loaded = rules.load_project(project.pk)

    assert rules.errors_on_save(loaded, contract) == []
    assert [f.code for f in rules.warnings_on_save(loaded, contract)] == ["LOGIC-3"]


def test_an_error_in_another_stage_does_not_refuse_saving_this_one(project):
    set_stage(project, "permit", chief_supervisor_id_number="510212198609214560")  # bad check digit
    loaded = rules.load_project(project.pk)

    assert "LEGAL-3" in codes(rules.evaluate(loaded))
    assert rules.errors_on_save(loaded, candidate(project, "registration", scale="地上20层")) == []


# ---------------------------------------------------------------- services: save_stage


def test_save_stage_refuses_a_tendering_before_the_registration_and_saves_nothing(actor, project):
    before = stage_of(project, "tendering")
    events = AuditEvent.objects.count()

    with pytest.raises(services.RuleViolation) as refused:
        services.save_stage(
            actor=actor,
            project=project,
            stage_code="tendering",
            data={"awarded_on": datetime.date(2016, 2, 1), "winner_name": "改了名字的公司"},
        )

    assert "LOGIC-1" in codes(refused.value.findings)
    assert all(is_chinese(m) for m in refused.value.messages)
    after = stage_of(project, "tendering")
    assert (after.awarded_on, after.winner_name, after.updated_at) == (
        before.awarded_on,
        before.winner_name,
        before.updated_at,
    )
    assert AuditEvent.objects.count() == events


def test_save_stage_creates_a_stage_and_records_who_did_it(actor, user, enterprise, yuzhong, open_windows):
    project = make_project(enterprise, user, yuzhong, stages=False, evidence=False)
    data = valid_stage_data(enterprise)["registration"]

    stage, warnings = services.save_stage(actor=actor, project=project, stage_code="registration", data=data)

    assert stage.pk and stage.updated_by == user and warnings == []
    event = AuditEvent.objects.get(project=project, action="stage.create")
    assert (event.actor, event.ip_address, event.message) == (user, "127.0.0.1", "项目报建")
    assert event.changes["registration_number"] == [None, data["registration_number"]]


def test_save_stage_returns_warnings_with_the_saved_stage(actor, project):
    stage, warnings = services.save_stage(
        actor=actor, project=project, stage_code="contract", data={"amount": Decimal("20000000.00")}
    )
    assert stage_of(project, "contract").amount == Decimal("20000000.00")
    assert [w.code for w in warnings] == ["LOGIC-3"]
    assert AuditEvent.objects.get(project=project, action="stage.update").changes["amount"] == [
        "12345678.00",
        "20000000.00",
    ]


# ---------------------------------------------------------------- services: create_project


def project_form_data(authority, **values):
    return {
        "authority": authority,
        "name": "渝中区示范综合楼工程",
        "address": "重庆市渝中区解放碑街道民族路1号",
        "project_type": "building_general",
        "is_completed": True,
        "start_basis": "permit",
        "total_area": Decimal("8888.00"),
        **values,
    }


def test_create_project_issues_a_16_digit_project_number(actor, user, yuzhong, open_windows):
    first = services.create_project(actor=actor, data=project_form_data(yuzhong))
    second = services.create_project(actor=actor, data=project_form_data(yuzhong))

    prefix = f"500103{_today():%y%m%d}"
    assert (first.project_number, second.project_number) == (f"{prefix}0001", f"{prefix}0002")
    assert len(first.project_number) == 16 and first.project_number.isdigit()
    assert first.county_code == "500103" and first.status == Status.DRAFT
    event = AuditEvent.objects.get(project=first, action="project.create")
    assert (event.actor, event.ip_address) == (user, "127.0.0.1")


def test_create_project_keeps_a_project_number_the_enterprise_already_has(actor, yuzhong, open_windows):
    project = services.create_project(
        actor=actor, data=project_form_data(yuzhong, project_number="5001031612310007")
    )
    assert project.project_number == "5001031612310007"


def test_create_project_refuses_a_malformed_project_number(actor, yuzhong, open_windows):
    with pytest.raises(services.RuleViolation) as refused:
        services.create_project(
            actor=actor, data=project_form_data(yuzhong, project_number="5001031613310007")
        )
    assert "LEGAL-1" in codes(refused.value.findings)
    assert not Project.objects.exists()


def test_create_project_refuses_when_the_window_has_closed_and_says_its_dates(actor, yuzhong, open_windows):
    BackfillWindow.objects.filter(enterprise_kind=EnterpriseKind.CONSTRUCTION).update(
        opens_on=datetime.date(2018, 1, 1), closes_on=datetime.date(2018, 9, 30)
    )

    with pytest.raises(services.RuleViolation) as refused:
        services.create_project(actor=actor, data=project_form_data(yuzhong))

    message = refused.value.messages[0]
    assert "2018年01月01日" in message and "2018年09月30日" in message
    assert not Project.objects.exists()
    assert not AuditEvent.objects.filter(action="project.create").exists()


def test_create_project_refuses_when_no_window_is_set(actor, yuzhong):
    with pytest.raises(services.RuleViolation) as refused:
        services.create_project(actor=actor, data=project_form_data(yuzhong))
    assert "尚未设置" in refused.value.messages[0]


# ---------------------------------------------------------------- services: submit_project


def test_submit_project_refuses_while_errors_remain(actor, enterprise, user, yuzhong, open_windows):
    project = make_project(enterprise, user, yuzhong, evidence=False)

    with pytest.raises(services.RuleViolation) as refused:
        services.submit_project(actor=actor, project=project)

    assert {f.code for f in refused.value.findings} == {"TRUTH-3"}
    assert len(refused.value.findings) == 6 and all(f.is_error for f in refused.value.findings)
    project.refresh_from_db()
    assert project.status == Status.DRAFT and project.submitted_at is None
    assert not SubmissionVersion.objects.filter(project=project).exists()
    assert not AuditEvent.objects.filter(project=project, action__startswith="project.submit").exists()


def test_submit_project_submits_a_clean_record_and_locks_it(actor, user, project):
    submitted = services.submit_project(actor=actor, project=project)

    project.refresh_from_db()
    assert submitted.status == project.status == Status.SUBMITTED
    assert project.submitted_at is not None and project.first_submitted_at == project.submitted_at
    event = AuditEvent.objects.get(project=project, action="project.submit")
    assert (event.actor, event.ip_address, event.changes["status"]) == (
        user,
        "127.0.0.1",
        ["draft", "submitted"],
    )
    version = SubmissionVersion.objects.get(project=project)
    assert version.number == 1 and len(version.evidence) == 6
    assert version.content["permit"]["permit_number"] == stage_of(project, "permit").permit_number

    before = stage_of(project, "registration").scale
    events = AuditEvent.objects.count()
    with pytest.raises(services.RecordLocked) as locked:
        services.save_stage(
            actor=actor, project=project, stage_code="registration", data={"scale": "地上20层"}
        )
    assert "已提交待审核" in str(locked.value)
    assert stage_of(project, "registration").scale == before
    # nothing changed but the refusal, which is audited (who tried what, on which record, why)
    assert AuditEvent.objects.count() == events + 1
    refused = AuditEvent.objects.latest("id")
    assert (refused.actor, refused.action, refused.project) == (user, "stage.save.refused", project)
    assert refused.message == str(locked.value)


def test_submit_project_submits_a_record_with_warnings_only(actor, project):
    set_stage(project, "contract", amount=Decimal("20000000.00"))

    services.submit_project(actor=actor, project=project)

    project.refresh_from_db()
    assert project.status == Status.SUBMITTED
    assert "1条提示" in AuditEvent.objects.get(project=project, action="project.submit").message


def test_submit_project_refuses_a_record_of_another_enterprise(project, open_windows):
    stranger = make_enterprise_user(enterprise=EnterpriseFactory())

    with pytest.raises(services.PermissionDenied):
        services.submit_project(actor=Actor(user=stranger, ip_address="127.0.0.1"), project=project)

    project.refresh_from_db()
    assert project.status == Status.DRAFT
    assert AuditEvent.objects.filter(project=project, action="project.submit.refused").exists()


def test_make_project_sets_a_later_status_with_its_submission_time(enterprise, user, yuzhong, open_windows):
    project = make_project(enterprise, user, yuzhong, status=Status.IN_NOTICE)
    assert project.status == Status.IN_NOTICE and project.first_submitted_at is not None
    assert findings_of(project) == []


def test_the_builder_id_numbers_and_codes_are_valid():
    data = valid_stage_data(SimpleNamespace(name="某建设公司", credit_code=credit_code("91500103MA0000001")))
    assert id_number("51020219850312123") == data["tendering"]["project_manager_id_number"]
    assert data["permit"]["permit_number"] == data["completion"]["permit_number"]
    assert len(data["permit"]["permit_number"]) == 18
    assert data["permit"]["permit_number"][6:14] == f"{data['permit']['issued_on']:%Y%m%d}"


# ---------------------------------------------------------------- the tables read once a process


def test_the_code_tables_and_date_fields_read_once_are_the_models_own():
    # NAT-2 and TRUTH-4 read them once a process (rules.choice_fields, rules.date_field_names): model metadata,
    # the same for every enterprise and record, never data of one.
    for model in STAGE_MODELS.values():
        expected = [
            (f.name, {value for value, _label in f.flatchoices})
            for f in model._meta.concrete_fields
            if f.choices
        ]
        assert [(f.name, set(allowed)) for f, allowed in rules.choice_fields(model)] == expected
        assert rules.choice_fields(model) is rules.choice_fields(model)  # read once
        dates = [f.name for f in model._meta.concrete_fields if f.get_internal_type() == "DateField"]
        assert list(rules.date_field_names(model)) == dates
    assert "structure_type" in [f.name for f, _allowed in rules.choice_fields(STAGE_MODELS["completion"])]
