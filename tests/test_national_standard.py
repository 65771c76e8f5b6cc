"""The national standard as the delivery format (docs/national-standard.md): the mapping, the simulator's checks
held against the rule engine's, a refusal end to end, and the read-back reconciliation (docs/lifecycle.md)."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projects import rules
from projects.audit import Actor
from projects.models import STAGE_MODELS, Notification, Project, StartBasis, Status
from publicity import national_selectors, national_standard, services, snapshots
from publicity.models import (
    LibraryEntry,
    Notice,
    NoticeState,
    OutboxMessage,
    OutboxState,
    ReconciliationDiscrepancy,
    StageRecordNumber,
)
from review import services as review_services
from simulator import standard
from tests.builders import (
    OWNER_CREDIT_CODE,
    PROJECT_MANAGER_ID,
    credit_code,
    make_city_user,
    make_enterprise_user,
    make_project,
    make_reviewer,
)
from tests.simulator_process import API_KEY, standard_payload

OTHER_CREDIT_CODE = credit_code("91500105MA7654321")


@pytest.fixture
def yuzhong(authorities):
    return authorities["500103"]


@pytest.fixture
def clerk(db, open_windows):
    return make_enterprise_user(username="clerk")


@pytest.fixture
def reviewer(yuzhong):
    return make_reviewer(yuzhong, username="yz-reviewer")


@pytest.fixture
def project(clerk, yuzhong):
    return make_project(clerk.membership.enterprise, clerk, yuzhong)


def closed_notice(clerk, reviewer, authority, **fields) -> OutboxMessage:
    """A record approved, noticed and past its notice: its outbox message, not yet delivered."""
    project = make_project(clerk.membership.enterprise, clerk, authority, status=Status.SUBMITTED, **fields)
    review_services.approve(actor=Actor(user=reviewer), project=project)
    Notice.objects.filter(project=project, state=NoticeState.RUNNING).update(
        ends_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    services.close_expired_notices()
    return OutboxMessage.objects.get(project=project)


def payload_of(project, level="C") -> dict:
    content = snapshots.build_content(project)
    return national_standard.tables(
        content, numbers=services.stage_record_numbers(project, content), level=level
    )


# ---------------------------------------------------------------- the mapping


def test_every_choice_the_portal_offers_maps_one_to_one_onto_a_code_of_the_standard():
    fields = {
        "PrjTypeNum": ("registration", "works_category"),
        "PrjPropertyNum": ("registration", "nature"),
        "PrjFunctionNum": ("registration", "function_code"),
        "PrjApprovalLevelNum": ("registration", "approval_level"),
        "TenderClassNum": ("tendering", "tender_class"),
        "TenderTypeNum": ("tendering", "tender_method"),
        "ContractTypeNum": ("contract", "contract_type"),
        "PrjStructureTypeNum": ("completion", "structure_type"),
        "IDCardTypeNum": ("permit", "chief_supervisor_id_type"),
    }
    for code_list, (stage, name) in fields.items():
        offered = [value for value, _label in STAGE_MODELS[stage]._meta.get_field(name).choices]
        codes = [national_standard.code(code_list, value) for value in offered]
        assert len(set(codes)) == len(offered), code_list  # one to one
        if code_list in standard.DICTIONARIES:  # the simulator knows the list: every code is in it
            assert set(codes) <= standard.DICTIONARIES[code_list], code_list
    # Every person's document type, wherever it is asked for, uses the same list.
    for stage, name in [("tendering", "project_manager_id_type"), ("permit", "project_manager_id_type")]:
        assert STAGE_MODELS[stage]._meta.get_field(name).choices == fields_choices(
            "permit", "chief_supervisor_id_type"
        )


def fields_choices(stage, name):
    return STAGE_MODELS[stage]._meta.get_field(name).choices


def test_a_clean_record_maps_onto_the_six_tables_the_simulator_accepts(project):
    payload = payload_of(project)

    assert list(payload) == [
        "TBProjectInfo",
        "TBTenderInfo",
        "TBContractRecordManage",
        "TBProjectCensorInfo",
        "TBBuilderLicenceManage",
        "TBProjectFinishManage",
    ]
    assert standard.problems(project.project_number, payload) == []
    number = project.project_number
    info, tender = payload["TBProjectInfo"][0], payload["TBTenderInfo"][0]
    assert (info["PrjNum"], info["DataSource"], info["DataLevel"]) == (number, 3, "C")
    assert (info["ProvinceNum"], info["CityNum"], info["CountyNum"]) == ("500000", "500100", "500103")
    assert (info["PrjTypeNum"], info["PrjFunctionNum"], info["BuildCorpCode"]) == (
        "01",
        "301",
        OWNER_CREDIT_CODE,
    )
    assert (tender["TenderNum"], tender["TenderClassNum"], tender["TenderTypeNum"]) == (
        f"{number}-BD-001",
        "003",
        "001",
    )
    assert tender["ConstructorIDCard"] == PROJECT_MANAGER_ID and tender["IDCardTypeNum"] == "1"
    # 元 -> 万元 with 4 decimals, exactly
    completion = project.completion
    assert payload["TBProjectFinishManage"][0]["FactCost"] == str(
        (completion.actual_cost / 10000).quantize(Decimal("0.0001"))
    )
    assert payload["TBContractRecordManage"][0]["RecordNum"] == f"{number}-HZ-001"
    licence = payload["TBBuilderLicenceManage"][0]
    assert licence["BuilderLicenceNum"] == f"{number}-SX-001"
    assert licence["CensorNum"] == payload["TBProjectCensorInfo"][0]["CensorNum"] == f"{number}-TX-001"
    assert licence["provinceLicenceNo"] == project.permit.permit_number
    assert payload["TBProjectFinishManage"][0]["BuilderLicenceNum"] == f"{number}-SX-001"
    assert payload["TBProjectFinishManage"][0]["PrjFinishNum"] == f"{number}-JX-001"


def test_the_data_level_is_the_reviewing_authoritys_setting(project, settings):
    settings.NATIONAL_DATA_LEVELS = {"district": "B", "county": "C", "zone": "C"}
    assert {
        rows[0]["DataLevel"]
        for rows in payload_of(project, national_standard.data_level("district")).values()
    } == {"B"}


def test_stage_record_numbers_are_issued_once_and_kept_when_the_record_changes(project):
    first = services.stage_record_numbers(project, snapshots.build_content(project))
    type(project.tendering).objects.filter(project=project).update(tender_class="supervision")
    again = services.stage_record_numbers(project, snapshots.build_content(project))

    assert first == again
    assert first["tendering"] == f"{project.project_number}-BD-001"
    assert StageRecordNumber.objects.filter(project=project).count() == 5


def test_a_record_started_on_an_approval_sends_no_licence_and_is_accepted(clerk, yuzhong):
    project = make_project(
        clerk.membership.enterprise,
        clerk,
        yuzhong,
        start_basis=StartBasis.START_APPROVAL,
        stages=["registration", "tendering", "contract", "drawing_review", "completion"],
    )
    payload = payload_of(project)
    assert "TBBuilderLicenceManage" not in payload
    assert payload["TBProjectFinishManage"][0]["BuilderLicenceNum"] == ""
    assert standard.problems(project.project_number, payload) == []


# ---------------------------------------------------------------- the rule engine checks what the simulator checks

VALID_ID = PROJECT_MANAGER_ID
MUTATIONS = {
    ("registration", "works_category"): ["", "01", "02", "99", "03"],
    ("registration", "function_code"): ["", "301", "010", "012"],
    ("registration", "nature"): ["", "001", "099", "007"],
    ("registration", "owner_name"): ["", "无", "/", "重庆市某建设单位"],
    ("registration", "owner_credit_code"): ["", OWNER_CREDIT_CODE, OWNER_CREDIT_CODE[:-1] + "0"],
    ("tendering", "tender_class"): ["", "construction", "survey", "supervision", "epc"],
    ("tendering", "tender_method"): ["", "open", "direct", "other"],
    ("tendering", "tender_agency_name"): ["", "重庆市某招标代理公司", "无"],
    ("tendering", "tender_agency_credit_code"): ["", OTHER_CREDIT_CODE],
    ("tendering", "project_manager_id_type"): ["", "1", "3", "9"],
    ("tendering", "project_manager_id_number"): ["", VALID_ID, "E12345678", VALID_ID[:-1] + "0"],
    ("tendering", "area"): [None, Decimal("100.00")],
    ("tendering", "winner_credit_code"): ["", OTHER_CREDIT_CODE, "91500105MA765432"],
    ("contract", "contract_type"): ["", "301", "600", "500"],
    ("contract", "contract_number"): ["", "HT-1", "/"],
    ("contract", "joint_venture_members"): [
        [],
        [{"name": "某公司", "credit_code": OTHER_CREDIT_CODE}],
        [{"name": "某公司", "credit_code": "91500105MA7654320"}],
        [{"name": "某公司", "credit_code": ""}],
    ],
    ("contract", "employer_credit_code"): ["", OWNER_CREDIT_CODE],
    ("drawing_review", "review_agency_credit_code"): ["", OTHER_CREDIT_CODE],
    ("drawing_review", "completed_on"): [None, datetime.date(2016, 6, 20)],
    ("permit", "survey_enterprise_credit_code"): ["", OTHER_CREDIT_CODE, "not-a-code"],
    ("permit", "supervision_enterprise_name"): ["", "某监理公司"],
    ("permit", "chief_supervisor_id_type"): ["", "1", "2"],
    ("permit", "chief_supervisor_id_number"): ["", VALID_ID, "J1234567"],
    ("permit", "drawing_review_certificate_number"): ["渝审字（2016）第0001号"],
    ("permit", "area"): [None, Decimal("0.00")],
    ("completion", "permit_number"): ["", "500103201607019999"],
    ("completion", "structure_type"): ["", "004", "099", "016"],
    ("completion", "actual_cost"): [None, Decimal("0.01"), Decimal("99999999999999.99")],
    ("project", "county_code"): ["500103", "110101", "5001"],
    ("project", "start_basis"): [StartBasis.PERMIT, StartBasis.START_APPROVAL],
}


@st.composite
def mutations(draw):
    chosen = draw(st.lists(st.sampled_from(sorted(MUTATIONS)), max_size=4, unique=True))
    changes = {key: draw(st.sampled_from(MUTATIONS[key])) for key in chosen}
    drop_permit = draw(st.booleans())
    return changes, drop_permit


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=mutations())
def test_any_record_the_rule_engine_passes_is_accepted_by_the_simulator(project, case):
    changes, drop_permit = case
    loaded = rules.load_project(project.pk)
    context = rules.build_context(loaded)
    for (stage, name), value in changes.items():
        setattr(loaded if stage == "project" else context.stages[stage], name, value)
    if drop_permit:  # a project started on another authority's approval has no permit stage
        context.stages["permit"] = None
        loaded.start_basis = StartBasis.START_APPROVAL
    findings = rules.evaluate(loaded, context=context)
    if any(f.is_error for f in findings):
        return
    content = snapshots.content_of(loaded, context.stages)
    numbers = {
        code: f"{loaded.project_number}-XX-00{i}" for i, code in enumerate(national_standard.TABLE_OF_STAGE)
    }
    payload = national_standard.tables(content, numbers=numbers, level="C")
    assert standard.problems(loaded.project_number, payload) == [], (changes, drop_permit)


# ---------------------------------------------------------------- the simulator refuses like a receiving platform


@pytest.mark.parametrize(
    "change, table, field",
    [
        (lambda p: p["TBProjectInfo"][0].update(PrjNum="50010321061800011"), "TBProjectInfo", "PrjNum"),
        (lambda p: p["TBProjectInfo"][0].update(PrjFunctionNum="012"), "TBProjectInfo", "PrjFunctionNum"),
        (
            lambda p: p["TBProjectInfo"][0].update(BuildCorpCode=OWNER_CREDIT_CODE[:-1] + "0"),
            "TBProjectInfo",
            "BuildCorpCode",
        ),
        (lambda p: p["TBProjectInfo"][0].update(PrjName="无"), "TBProjectInfo", "PrjName"),
        (lambda p: p.update(TBTenderInfo=[{"PrjNum": "5001032106180002"}]), "TBTenderInfo", "PrjNum"),
        (
            lambda p: p.update(
                TBProjectFinishManage=[
                    {
                        **p["TBProjectInfo"][0],
                        "PrjFinishNum": "5001032106180001-JX-001",
                        "BuilderLicenceNum": "5001032106180001-SX-001",
                        "FactCost": "1.0000",
                        "FactArea": "1.00",
                    }
                ],
                TBBuilderLicenceManage=[],
            ),
            "TBProjectFinishManage",
            "BuilderLicenceNum",
        ),
    ],
)
def test_the_simulator_refuses_naming_the_table_the_field_and_the_reason(change, table, field):
    payload = standard_payload("5001032106180001")
    change(payload)
    found = standard.problems("5001032106180001", payload)
    assert {(p["table"], p["field"]) for p in found} >= {(table, field)}, found
    assert all(p["message"] for p in found)


def test_a_17_digit_prjnum_is_refused_over_http_with_a_chinese_reason(national_platform):
    _base_url, simulator = national_platform
    number = "50010321061800011"
    status, _, body = simulator.create(number, standard_payload(number), key="k-17")
    assert status == 422 and body["error"] == "validation_failed"
    [problem] = [p for p in body["problems"] if p["field"] == "PrjNum"]
    assert problem["table"] == "TBProjectInfo" and "16位" in problem["message"]
    assert simulator.records()["records"] == []


def test_a_refusal_stops_retries_and_sends_the_record_back_to_the_district_with_the_platforms_reasons(
    national_platform, settings, clerk, reviewer, yuzhong, client, authorities
):
    base_url, simulator = national_platform
    settings.NATIONAL_PLATFORM_URL, settings.NATIONAL_PLATFORM_API_KEY = base_url, API_KEY
    message = closed_notice(clerk, reviewer, yuzhong)
    # Something the rule engine would have refused, slipped into what is sent (a bug, a hand-edited row).
    message.payload["TBTenderInfo"][0]["TenderClassNum"] = "0x3"
    OutboxMessage.objects.filter(pk=message.pk).update(payload=message.payload)

    assert services.deliver(message.pk) == "refused"

    message.refresh_from_db()
    assert message.state == OutboxState.REFUSED and message.last_status_code == 422
    assert message.refusal == [
        {
            "table": "TBTenderInfo",
            "field": "TenderClassNum",
            "message": "代码值“0x3”不在代码表TenderClassNum内",
            "stage": "tendering",
            "stage_field": "tender_class",
        }
    ]
    project = Project.objects.get(pk=message.project_id)
    assert project.status == Status.SUBMITTED  # back in the district's queue
    assert not LibraryEntry.objects.filter(project=project).exists()
    assert services.deliver(message.pk) == "skipped"  # no retry
    assert list(national_selectors.refusals(authority_id=yuzhong.pk)) == [message]
    assert national_selectors.refusal_by_field(message) == {
        ("tendering", "tender_class"): ["TBTenderInfo.TenderClassNum：代码值“0x3”不在代码表TenderClassNum内"]
    }
    told = set(Notification.objects.filter(project=project).values_list("recipient__username", flat=True))
    assert {"yz-reviewer", "clerk"} <= told
    assert simulator.records()["records"] == []

    # The console shows the reasons against the record's field, to the district and the city only.
    reason = "TBTenderInfo.TenderClassNum：代码值“0x3”不在代码表TenderClassNum内"
    for who, shown in [
        (reviewer, True),
        (make_city_user(username="city-national"), True),
        (make_reviewer(authorities["500105"], username="jb-reviewer"), False),
    ]:
        client.force_login(who)
        page = client.get(reverse("review:national_answers")).content.decode()
        assert (
            project.project_number in page and reason in page and "项目招投标 · 招标类型" in page
        ) is shown
    assert figures_row("500103").national_refused == 1 and figures_row("500105").national_refused == 0


# ---------------------------------------------------------------- read-back reconciliation


def test_the_read_back_flags_a_dropped_and_an_altered_record_and_counts_them(
    national_platform, settings, clerk, reviewer, yuzhong, client
):
    base_url, simulator = national_platform
    settings.NATIONAL_PLATFORM_URL, settings.NATIONAL_PLATFORM_API_KEY = base_url, API_KEY
    messages = [closed_notice(clerk, reviewer, yuzhong) for _ in range(3)]
    assert [services.deliver(m.pk) for m in messages] == ["delivered"] * 3
    assert services.reconcile_national_library() == {"ok": 3, "missing": 0, "altered": 0, "unreachable": 0}

    dropped, altered, _kept = (f"NP-{m.project.project_number}" for m in messages)
    assert simulator.call("POST", "/_control/tamper", {"national_id": dropped, "action": "drop"})[0] == 200
    assert (
        simulator.call(
            "POST",
            "/_control/tamper",
            {
                "national_id": altered,
                "action": "alter",
                "table": "TBProjectInfo",
                "field": "AllArea",
                "value": "1.00",
            },
        )[0]
        == 200
    )

    assert services.reconcile_national_library() == {"ok": 1, "missing": 1, "altered": 1, "unreachable": 0}
    flags = {f.entry.national_id: f for f in ReconciliationDiscrepancy.objects.select_related("entry")}
    assert flags[dropped].kind == "missing" and flags[dropped].differences == []
    sent_area = messages[1].payload["TBProjectInfo"][0]["AllArea"]
    assert flags[altered].differences == [
        {"table": "TBProjectInfo", "row": 0, "field": "AllArea", "sent": sent_area, "found": "1.00"}
    ]
    assert national_selectors.discrepancy_counts() == {"missing": 1, "altered": 1}
    assert national_selectors.discrepancy_counts(authority_id=yuzhong.pk) == {"missing": 1, "altered": 1}

    # Daily: a second run finds the same and adds no row.
    services.reconcile_national_library()
    assert ReconciliationDiscrepancy.objects.count() == 2

    # 报送核对 in the console and on the city's figures.
    client.force_login(reviewer)
    page = client.get(reverse("review:national_answers")).content.decode()
    assert "报送核对差异（2）" in page and "全国平台已查不到该记录" in page
    assert f"TBProjectInfo.AllArea：报送“{sent_area}”，平台“1.00”" in page
    assert figures_row("500103").discrepancies == 2


def figures_row(code):
    from reporting.figures import district_figures

    return next(row for row in district_figures() if row.code == code)


def test_the_reconciliation_task_is_scheduled_daily():
    from django.conf import settings as django_settings

    entry = django_settings.CELERY_BEAT_SCHEDULE["reconcile-national-library"]
    assert entry["task"] == "publicity.tasks.reconcile_national_library"
