"""City spot checks (抽查): campaigns, the reproducible draw, routing to departments, findings, and their pages.

Who may open which page is the table of tests/test_spot_checks_matrix.py; the blacklist and deductions that follow a
false-information finding are tests/test_integrity.py.
"""

import datetime
import hashlib
import importlib
import threading
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from corrections.models import CorrectionOrder
from inspections import services as inspection_services
from inspections.forms import CampaignForm
from inspections.models import Finding, FindingEvidence, SpotCheckCampaign, SpotCheckItem
from projects.audit import Actor
from projects.models import AuditEvent, CityDepartment, Notification, RecordLocked, StageCode, Status
from publicity.models import LibraryEntry
from tests.builders import (
    EXE_BYTES,
    PDF_BYTES,
    PNG_BYTES,
    enter_library,
    make_city_user,
    make_enterprise_user,
    make_project,
    make_reviewer,
)
from tests.needs import needs_service

pytestmark = pytest.mark.django_db


ALL_STAGES = list(StageCode.values)


@pytest.fixture
def world(authorities, open_windows):
    yuzhong, jiangbei, dadukou = authorities["500103"], authorities["500105"], authorities["500104"]
    clerk = make_enterprise_user(username="clerk")
    users = SimpleNamespace(
        clerk=clerk,
        reviewer=make_reviewer(yuzhong, username="reviewer"),
        tendering=make_city_user(username="zbb", department=CityDepartment.TENDERING_OFFICE),
        design=make_city_user(username="sjc", department=CityDepartment.DESIGN),
        approval=make_city_user(username="spzx", department=CityDepartment.APPROVAL_CENTER),
        quality=make_city_user(username="zjz", department=CityDepartment.QUALITY_STATION),
        management=make_city_user(username="jgc", department=CityDepartment.CONSTRUCTION_MANAGEMENT),
    )
    return SimpleNamespace(yuzhong=yuzhong, jiangbei=jiangbei, dadukou=dadukou, users=users, clerk=clerk)


def entered(world, authority=None, *, stages=True, entered_at=None, name="抽查测试工程"):
    clerk = world.clerk
    project = make_project(
        clerk.membership.enterprise,
        clerk,
        authority or world.yuzhong,
        stages=stages,
        evidence=False,
        name=name,
    )
    return enter_library(project, entered_at=entered_at)


def campaign_of(world, *, actor=None, authorities=None, stages=None, start=None, end=None, **sample):
    today = timezone.localdate()
    return inspection_services.create_campaign(
        actor=Actor(user=actor or world.users.management),
        name="2026年第一批抽查",
        authorities=authorities or [world.yuzhong],
        stages=stages or ALL_STAGES,
        period_start=start or today - datetime.timedelta(days=30),
        period_end=end or today,
        **(sample or {"sample_size": 5}),
    )


def sampled_projects(campaign) -> set[int]:
    return set(SpotCheckItem.objects.filter(campaign=campaign).values_list("project_id", flat=True))


def state_of(campaign):
    campaign.refresh_from_db()
    return {
        "campaign": SpotCheckCampaign.objects.filter(pk=campaign.pk).values().get(),
        "items": list(SpotCheckItem.objects.filter(campaign=campaign).order_by("pk").values()),
        "notifications": Notification.objects.count(),
        "events": AuditEvent.objects.exclude(action__endswith=".refused").count(),
    }


# ---------------------------------------------------------------- reproducibility


def test_it_draws_the_same_records_with_the_same_seed_and_the_pure_draw_agrees(world):
    for n in range(12):
        entered(world, name=f"抽查工程{n:02d}")
    first = campaign_of(world, sample_size=5)
    second = campaign_of(world, sample_size=5)

    inspection_services.draw_sample(
        actor=Actor(user=world.users.management), campaign_id=first.pk, seed=20260101
    )
    inspection_services.draw_sample(
        actor=Actor(user=world.users.management), campaign_id=second.pk, seed=20260101
    )

    assert len(sampled_projects(first)) == 5
    assert sampled_projects(first) == sampled_projects(second)
    population = inspection_services.population_ids(first)
    assert set(inspection_services.draw(population, 20260101, 5)) == sampled_projects(first)
    assert inspection_services.draw(population, 20260101, 5) == inspection_services.draw(
        list(population), 20260101, 5
    )


def test_it_draws_different_records_with_different_seeds_in_general():
    population = list(range(1, 201))
    samples = {tuple(inspection_services.draw(population, seed, 10)) for seed in range(50)}

    assert len(samples) == 50  # 50 seeds, 50 different samples of 10 out of 200
    assert inspection_services.draw(population, 7, 10) == inspection_services.draw(population, 7, 10)
    assert inspection_services.draw(population, 7, 10) == sorted(inspection_services.draw(population, 7, 10))


def test_it_records_a_drawn_seed_and_the_population_so_anyone_can_redraw_the_sample(world):
    for n in range(9):
        entered(world, name=f"复核工程{n}")
    campaign = campaign_of(world, sample_rate=Decimal("30"))

    inspection_services.draw_sample(actor=Actor(user=world.users.tendering), campaign_id=campaign.pk)

    campaign.refresh_from_db()
    assert 0 <= campaign.seed < 2**63
    assert campaign.population_size == 9
    assert campaign.drawn_by == world.users.tendering and campaign.drawn_at is not None
    # ceil(30% × 9) = ceil(2.7) = 3 records, redrawn from the recorded seed alone
    assert sampled_projects(campaign) == set(
        inspection_services.draw(inspection_services.population_ids(campaign), campaign.seed, 3)
    )
    event = AuditEvent.objects.get(action="spot_check.draw")
    assert event.changes["seed"] == [None, str(campaign.seed)]
    assert event.changes["population_size"] == [None, 9]
    assert sorted(event.changes["sampled_records"][1]) == sorted(sampled_projects(campaign))


def test_it_sizes_the_sample_by_rate_rounded_up_and_caps_a_size_at_the_population(world):
    for n in range(7):
        entered(world, name=f"比例工程{n}")
    by_rate = campaign_of(world, sample_rate=Decimal("10"), stages=["permit"])
    too_many = campaign_of(world, sample_size=50, stages=["permit"])
    everything = campaign_of(world, sample_rate=Decimal("100"), stages=["permit"])

    for campaign in (by_rate, too_many, everything):
        inspection_services.draw_sample(
            actor=Actor(user=world.users.management), campaign_id=campaign.pk, seed=1
        )

    assert len(sampled_projects(by_rate)) == 1  # ceil(0.7)
    assert len(sampled_projects(too_many)) == 7
    assert len(sampled_projects(everything)) == 7


def test_the_population_is_the_library_within_the_period_in_beijing_dates_and_the_chosen_authorities(world):
    day = datetime.date(2026, 3, 1)
    beijing = datetime.timezone(datetime.timedelta(hours=8))
    inside = [
        # 00:30 Beijing on the first day is still the previous day in UTC: inside.
        entered(world, entered_at=datetime.datetime(2026, 3, 1, 0, 30, tzinfo=beijing), name="首日工程"),
        entered(world, entered_at=datetime.datetime(2026, 3, 31, 23, 30, tzinfo=beijing), name="末日工程"),
    ]
    entered(world, entered_at=datetime.datetime(2026, 2, 28, 23, 59, tzinfo=beijing), name="期前工程")
    entered(world, entered_at=datetime.datetime(2026, 4, 1, 0, 0, tzinfo=beijing), name="期后工程")
    entered(world, world.dadukou, entered_at=datetime.datetime(2026, 3, 10, tzinfo=beijing), name="他区工程")
    in_notice = make_project(
        world.clerk.membership.enterprise, world.clerk, world.yuzhong, status=Status.IN_NOTICE, evidence=False
    )
    campaign = campaign_of(world, start=day, end=datetime.date(2026, 3, 31), sample_size=100)

    assert inspection_services.population_ids(campaign) == sorted(p.pk for p in inside)
    assert in_notice.pk not in inspection_services.population_ids(campaign)


# ---------------------------------------------------------------- routing


def test_it_routes_each_of_the_six_stages_to_the_department_that_checks_it(world):
    assert inspection_services.STAGE_DEPARTMENTS == {
        "registration": "tendering_office",
        "tendering": "tendering_office",
        "contract": "tendering_office",
        "drawing_review": "design",
        "permit": "approval_center",
        "completion": "quality_station",
    }
    project = entered(world)
    campaign = campaign_of(world, sample_size=1)

    inspection_services.draw_sample(actor=Actor(user=world.users.management), campaign_id=campaign.pk)

    items = {
        item.stage: item.department
        for item in SpotCheckItem.objects.filter(campaign=campaign, project=project)
    }
    assert items == {
        StageCode.REGISTRATION: CityDepartment.TENDERING_OFFICE,
        StageCode.TENDERING: CityDepartment.TENDERING_OFFICE,
        StageCode.CONTRACT: CityDepartment.TENDERING_OFFICE,
        StageCode.DRAWING_REVIEW: CityDepartment.DESIGN,
        StageCode.PERMIT: CityDepartment.APPROVAL_CENTER,
        StageCode.COMPLETION: CityDepartment.QUALITY_STATION,
    }
    # Each department is told what it has to check.
    titles = dict(Notification.objects.values_list("recipient__username", "title"))
    assert titles["zbb"] == "抽查任务“2026年第一批抽查”有3个事项待核查"
    assert titles["sjc"] == titles["spzx"] == titles["zjz"] == "抽查任务“2026年第一批抽查”有1个事项待核查"
    assert "jgc" not in titles


def test_the_departments_are_also_told_by_e_mail_once_the_draw_commits(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    entered(world)
    campaign = campaign_of(world, stages=["permit", "completion"], sample_size=1)

    with django_capture_on_commit_callbacks(execute=True):
        inspection_services.draw_sample(actor=Actor(user=world.users.management), campaign_id=campaign.pk)

    sent = {tuple(mail.to): mail for mail in mailoutbox}
    assert set(sent) == {(world.users.approval.email,), (world.users.quality.email,)}
    mail = sent[(world.users.approval.email,)]
    assert mail.subject == "[建设工程项目信息补录] 抽查任务“2026年第一批抽查”有1个事项待核查"
    assert "由市审批服务中心核查" in mail.body


def test_it_makes_items_only_for_the_chosen_stages_the_record_has(world):
    project = entered(world, stages=["registration", "tendering", "contract", "permit", "completion"])
    campaign = campaign_of(world, stages=["drawing_review", "permit"], sample_size=1)

    inspection_services.draw_sample(actor=Actor(user=world.users.management), campaign_id=campaign.pk)

    assert list(SpotCheckItem.objects.filter(campaign=campaign).values_list("project_id", "stage")) == [
        (project.pk, "permit")
    ]


# ---------------------------------------------------------------- a second draw


def test_it_refuses_a_second_draw_and_changes_nothing(world):
    for n in range(4):
        entered(world, name=f"重复工程{n}")
    campaign = campaign_of(world, sample_size=2)
    inspection_services.draw_sample(
        actor=Actor(user=world.users.management), campaign_id=campaign.pk, seed=42
    )
    before = state_of(campaign)

    with pytest.raises(RecordLocked) as refused:
        inspection_services.draw_sample(
            actor=Actor(user=world.users.design), campaign_id=campaign.pk, seed=43
        )

    drawn_at = timezone.localtime(before["campaign"]["drawn_at"])
    assert str(refused.value) == (
        f"抽查任务“2026年第一批抽查”已于{drawn_at:%Y-%m-%d %H:%M}抽取样本（复核码42），不能重复抽取。"
    )
    assert state_of(campaign) == before
    refusal = AuditEvent.objects.get(action="spot_check.draw.refused")
    assert refusal.actor == world.users.design and refusal.message == str(refused.value)


@needs_service(
    connection.vendor == "postgresql",
    reason="concurrent transactions need PostgreSQL (SQLite serialises the whole database)",
)
@pytest.mark.django_db(transaction=True)
def test_it_lets_only_one_of_two_concurrent_draws_through(authorities):
    city = make_city_user(username="racer", department=CityDepartment.TENDERING_OFFICE)
    clerk = make_enterprise_user(username="race-clerk")
    for _ in range(6):
        enter_library(make_project(clerk.membership.enterprise, clerk, authorities["500103"], evidence=False))
    campaign = inspection_services.create_campaign(
        actor=Actor(user=city),
        name="并发抽取",
        authorities=[authorities["500103"]],
        stages=["permit"],
        period_start=timezone.localdate() - datetime.timedelta(days=1),
        period_end=timezone.localdate(),
        sample_size=3,
    )
    barrier = threading.Barrier(2)
    outcomes = []

    def attempt(seed):
        from django.db import connections

        try:
            barrier.wait()
            inspection_services.draw_sample(actor=Actor(user=city), campaign_id=campaign.pk, seed=seed)
            outcomes.append("drawn")
        except RecordLocked:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(seed,)) for seed in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(outcomes) == ["drawn", "refused"]
    campaign.refresh_from_db()
    assert SpotCheckItem.objects.filter(campaign=campaign).count() == 3
    assert sampled_projects(campaign) == set(
        inspection_services.draw(inspection_services.population_ids(campaign), campaign.seed, 3)
    )


# ---------------------------------------------------------------- campaigns: who and what


def test_it_lets_only_city_staff_create_or_draw_and_audits_the_refusals(world):
    campaign = campaign_of(world)
    for user in (world.clerk, world.users.reviewer):
        with pytest.raises(PermissionDenied, match="只有市级管理人员可以创建抽查任务。"):
            campaign_of(world, actor=user)
        with pytest.raises(PermissionDenied, match="只有市级管理人员可以抽取样本。"):
            inspection_services.draw_sample(actor=Actor(user=user), campaign_id=campaign.pk)

    assert SpotCheckCampaign.objects.count() == 1
    assert SpotCheckCampaign.objects.get().drawn_at is None
    assert AuditEvent.objects.filter(action="spot_check.create.refused").count() == 2
    assert AuditEvent.objects.filter(action="spot_check.draw.refused").count() == 2


@pytest.mark.parametrize(
    "changes, field, message",
    [
        (
            {"period_start": datetime.date(2026, 3, 2), "period_end": datetime.date(2026, 3, 1)},
            "period_end",
            "入库截止日期（2026-03-01）不能早于起始日期（2026-03-02）。",
        ),
        ({"sample_size": None}, "sample_size", "抽查比例与抽查数量须填写且只填写其中一项。"),
        ({"sample_rate": Decimal("10")}, "sample_size", "抽查比例与抽查数量须填写且只填写其中一项。"),
        (
            {"sample_size": None, "sample_rate": Decimal("0")},
            "sample_rate",
            "抽查比例须大于0且不超过100（%）。",
        ),
        (
            {"sample_size": None, "sample_rate": Decimal("100.5")},
            "sample_rate",
            "抽查比例须大于0且不超过100（%）。",
        ),
        ({"sample_size": 0}, "sample_size", "抽查数量须为正整数。"),
    ],
)
def test_it_refuses_a_bad_campaign_field_by_field_in_chinese_and_saves_nothing(
    world, changes, field, message
):
    arguments = {
        "name": "第二批抽查",
        "authorities": [world.yuzhong],
        "stages": ["permit"],
        "period_start": datetime.date(2026, 1, 1),
        "period_end": datetime.date(2026, 3, 31),
        "sample_size": 3,
        **changes,
    }

    with pytest.raises(ValidationError) as refused:
        inspection_services.create_campaign(actor=Actor(user=world.users.management), **arguments)

    assert refused.value.message_dict[field] == [message]
    assert SpotCheckCampaign.objects.count() == 0
    assert not AuditEvent.objects.filter(action__startswith="spot_check").exists()


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"name": "  "}, "name", "请填写抽查名称。"),
        ({"authorities": []}, "authorities", "请至少选择一个抽查区县（开发区）。"),
        ({"authorities": ["999999"]}, "authorities", "所选区县（开发区）不存在：999999。"),
        ({"stages": []}, "stages", "请至少选择一个抽查环节。"),
        ({"stages": ["permit", "design"]}, "stages", "未知的环节：design。"),
        ({"period_start": ""}, "period_start", "请填写入库起始日期。"),
        ({"period_end": ""}, "period_end", "请填写入库截止日期。"),
        ({"sample_size": "", "sample_rate": "十"}, "sample_rate", "抽查比例须为数字（百分比）。"),
        ({"sample_size": "两条"}, "sample_size", "抽查数量须为正整数。"),
        ({"sample_size": "0"}, "sample_size", "抽查数量须为正整数。"),
    ],
)
def test_the_campaign_form_parses_what_was_typed_field_by_field_in_chinese(world, changes, field, message):
    data = {
        "name": "第二批抽查",
        "authorities": [world.yuzhong.code],
        "stages": ["permit"],
        "period_start": "2026-01-01",
        "period_end": "2026-03-31",
        "sample_size": "3",
        **changes,
    }

    form = CampaignForm(data)

    assert not form.is_valid()
    assert form.errors[field] == [message]


def test_the_campaign_form_gives_the_service_clean_values(world):
    form = CampaignForm(
        {
            "name": " 第二批抽查 ",
            "authorities": [world.yuzhong.code],
            "stages": ["permit", "registration"],
            "period_start": "2026-01-01",
            "period_end": "2026-03-31",
            "sample_rate": "12.5",
        }
    )

    assert form.is_valid(), form.errors
    assert form.cleaned_data["name"] == "第二批抽查"
    assert list(form.cleaned_data["authorities"]) == [world.yuzhong]
    assert form.cleaned_data["period_start"] == datetime.date(2026, 1, 1)
    assert form.cleaned_data["sample_rate"] == Decimal("12.5") and form.cleaned_data["sample_size"] is None


def test_it_refuses_a_period_starting_in_the_future(world):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as refused:
        campaign_of(world, start=tomorrow, end=tomorrow + datetime.timedelta(days=5))
    assert refused.value.message_dict["period_start"] == [
        f"入库起始日期（{tomorrow}）不能晚于今天：抽查的是已入库的记录。"
    ]


# ---------------------------------------------------------------- findings


@pytest.fixture
def drawn(world):
    """One record in the library, sampled in all six stages."""
    project = entered(world)
    campaign = campaign_of(world, sample_size=1)
    inspection_services.draw_sample(actor=Actor(user=world.users.management), campaign_id=campaign.pk, seed=5)
    items = {item.stage: item for item in SpotCheckItem.objects.filter(campaign=campaign)}
    return SimpleNamespace(project=project, campaign=campaign, items=items)


def test_only_the_routed_department_records_a_finding(world, drawn):
    permit = drawn.items["permit"]
    for user in (
        world.users.tendering,
        world.users.design,
        world.users.management,
        world.users.reviewer,
        world.clerk,
    ):
        with pytest.raises(PermissionDenied) as refused:
            inspection_services.record_finding(
                actor=Actor(user=user), item_id=permit.pk, finding="correct", notes=""
            )
        assert (
            str(refused.value)
            == "该抽查事项（施工许可）由市审批服务中心核查，只有市审批服务中心的人员可以记录核查结论。"
        )
    permit.refresh_from_db()
    assert permit.finding == Finding.PENDING and permit.checked_by is None
    assert (
        AuditEvent.objects.filter(action="spot_check.finding.refused", object_id=str(permit.pk)).count() == 5
    )

    inspection_services.record_finding(
        actor=Actor(user=world.users.approval), item_id=permit.pk, finding="correct", notes=""
    )

    permit.refresh_from_db()
    assert (permit.finding, permit.checked_by) == (Finding.CORRECT, world.users.approval)
    event = AuditEvent.objects.get(action="spot_check.finding")
    assert event.project == drawn.project and event.changes["finding"] == ["pending", "correct"]
    assert event.organisation == "市审批服务中心"


def test_it_requires_notes_for_an_error_or_false_finding_and_a_known_finding(world, drawn):
    item = drawn.items["registration"]
    actor = Actor(user=world.users.tendering)
    for finding in ("error", "false_information"):
        with pytest.raises(ValidationError) as refused:
            inspection_services.record_finding(actor=actor, item_id=item.pk, finding=finding, notes="  ")
        assert refused.value.message_dict["notes"] == [
            f"核查结论为“{Finding(finding).label}”时须写明核查说明（问题所在）。"
        ]
    for finding in ("pending", "wrong"):
        with pytest.raises(ValidationError) as refused:
            inspection_services.record_finding(actor=actor, item_id=item.pk, finding=finding, notes="x")
        assert refused.value.message_dict["finding"] == ["请选择核查结论：信息正确、信息有误或信息虚假。"]
    with pytest.raises(ValidationError) as refused:
        inspection_services.record_finding(
            actor=actor, item_id=item.pk, finding="error", notes="<script>x</script>"
        )
    assert refused.value.message_dict["notes"] == ["不能包含HTML标签或脚本代码，请输入纯文本。"]
    item.refresh_from_db()
    assert item.finding == Finding.PENDING and item.notes == ""


def test_it_types_evidence_by_content_and_refuses_an_executable_named_pdf(world, drawn, evidence_storage):
    item = drawn.items["drawing_review"]
    actor = Actor(user=world.users.design)
    with pytest.raises(ValidationError) as refused:
        inspection_services.record_finding(
            actor=actor,
            item_id=item.pk,
            finding="error",
            notes="审查合格书编号与审查机构存档不符。",
            evidence=SimpleUploadedFile("核查记录.pdf", EXE_BYTES),
        )
    assert "只接受这三种格式" in refused.value.message_dict["evidence"][0]
    assert not list(evidence_storage.rglob("*.*")) and not any(
        p.is_file() for p in evidence_storage.rglob("*")
    )

    inspection_services.record_finding(
        actor=actor,
        item_id=item.pk,
        finding="error",
        notes="审查合格书编号与审查机构存档不符。",
        evidence=SimpleUploadedFile("photo.pdf", PNG_BYTES),  # a PNG whatever its name says
    )
    item.refresh_from_db()
    assert item.evidence_content_type == "image/png"
    assert item.evidence.read() == PNG_BYTES
    stored = item.evidence_file
    assert (stored.original_name, stored.content_type) == ("photo.pdf", "image/png")
    assert (stored.size, stored.sha256) == (len(PNG_BYTES), hashlib.sha256(PNG_BYTES).hexdigest())
    assert stored.file.name == item.evidence.name and stored.uploaded_by == world.users.design


def test_the_evidence_downloads_under_the_extension_of_its_detected_type(client, world, drawn):
    item = drawn.items["permit"]
    inspection_services.record_finding(
        actor=Actor(user=world.users.approval),
        item_id=item.pk,
        finding="error",
        notes="许可证编号有误。",
        evidence=SimpleUploadedFile("核查.html", PDF_BYTES),
    )
    client.force_login(world.users.approval)

    response = client.get(reverse("inspections:evidence", args=[item.pk]))

    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Disposition"] == "inline; filename*=UTF-8''%E6%A0%B8%E6%9F%A5.pdf"
    assert response["Content-Security-Policy"].endswith("sandbox")


def test_the_migration_gives_every_existing_finding_file_its_row(world, drawn, evidence_storage):
    """inspections/migrations/0003's backfill, run on findings recorded before it (file on the item only)."""
    with_file, missing, without = drawn.items["permit"], drawn.items["completion"], drawn.items["contract"]
    for item, user, content in (
        (with_file, world.users.approval, PDF_BYTES),
        (missing, world.users.quality, PNG_BYTES),
        (without, world.users.tendering, None),
    ):
        inspection_services.record_finding(
            actor=Actor(user=user),
            item_id=item.pk,
            finding="error",
            notes="有误。",
            evidence=SimpleUploadedFile("x.pdf", content) if content else None,
        )
    FindingEvidence.objects.all()._raw_delete(FindingEvidence.objects.db)  # as before the migration
    missing.refresh_from_db()
    (evidence_storage / missing.evidence.name).unlink()  # a file lost from storage still gets its row

    migration = importlib.import_module("inspections.migrations.0003_finding_evidence")
    migration.backfill(django_apps, None)

    rows = {row.item_id: row for row in FindingEvidence.objects.all()}
    assert set(rows) == {with_file.pk, missing.pk}
    with_file.refresh_from_db()
    first = rows[with_file.pk]
    assert first.file.name == with_file.evidence.name
    assert first.original_name == f"spot-check-{with_file.pk}.pdf" and first.content_type == "application/pdf"
    assert (first.size, first.sha256) == (len(PDF_BYTES), hashlib.sha256(PDF_BYTES).hexdigest())
    assert first.uploaded_by == world.users.approval and first.uploaded_at == with_file.checked_at
    assert (rows[missing.pk].size, rows[missing.pk].sha256, rows[missing.pk].content_type) == (
        0,
        "",
        "image/png",
    )


def test_the_finding_moves_only_through_its_transition(world, drawn):
    item = SpotCheckItem.objects.get(pk=drawn.items["permit"].pk)
    with pytest.raises(AttributeError, match="Direct finding modification is not allowed"):
        item.finding = Finding.CORRECT
    item.conclude(Finding.ERROR)
    with pytest.raises(TransitionNotAllowed):
        item.conclude(Finding.CORRECT)


def test_a_recorded_finding_cannot_be_overwritten(world, drawn):
    item = drawn.items["completion"]
    actor = Actor(user=world.users.quality)
    inspection_services.record_finding(
        actor=actor, item_id=item.pk, finding="false_information", notes="竣工备案系伪造。"
    )
    item.refresh_from_db()
    stored = SpotCheckItem.objects.filter(pk=item.pk).values().get()

    with pytest.raises(RecordLocked) as refused:
        inspection_services.record_finding(actor=actor, item_id=item.pk, finding="correct", notes="")

    checked_at = timezone.localtime(item.checked_at)
    assert str(refused.value) == (
        f"该抽查事项已于{checked_at:%Y-%m-%d %H:%M}记录核查结论“信息虚假”，核查结论一经记录不能修改。"
    )
    assert SpotCheckItem.objects.filter(pk=item.pk).values().get() == stored
    assert AuditEvent.objects.filter(action="spot_check.finding.refused").count() == 1


def test_an_error_finding_can_order_the_enterprise_to_correct(world, drawn):
    item = drawn.items["contract"]
    due = timezone.localdate() + datetime.timedelta(days=15)

    inspection_services.record_finding(
        actor=Actor(user=world.users.tendering),
        item_id=item.pk,
        finding="error",
        notes="合同金额与备案系统不一致。",
        correction_due_on=due,
    )

    order = CorrectionOrder.objects.get()
    item.refresh_from_db()
    assert (order.project, item.correction_order_id, order.due_on) == (drawn.project, order.pk, due)
    assert "合同金额与备案系统不一致。" in order.finding and "合同备案" in order.finding
    assert Notification.objects.filter(recipient=world.clerk, title__startswith="更正通知").exists()
    with pytest.raises(RecordLocked, match="已就该抽查事项通知企业更正，不能重复通知。"):
        inspection_services.order_correction(
            actor=Actor(user=world.users.tendering), item_id=item.pk, due_on=due
        )
    assert CorrectionOrder.objects.count() == 1


def test_a_correct_finding_cannot_order_a_correction(world, drawn):
    item = drawn.items["tendering"]
    due = timezone.localdate() + datetime.timedelta(days=15)
    with pytest.raises(ValidationError) as refused:
        inspection_services.record_finding(
            actor=Actor(user=world.users.tendering),
            item_id=item.pk,
            finding="correct",
            notes="",
            correction_due_on=due,
        )
    assert refused.value.message_dict["correction_due_on"] == ["只有信息有误或信息虚假时才能通知企业更正。"]
    item.refresh_from_db()
    assert item.finding == Finding.PENDING and not CorrectionOrder.objects.exists()


# ---------------------------------------------------------------- pages


def page_messages(response):
    return [str(m) for m in response.context["messages"]]


def test_a_campaign_is_created_and_drawn_through_its_pages_and_shows_its_seed(client, world):
    for n in range(3):
        entered(world, name=f"页面工程{n}")
    client.force_login(world.users.management)
    today = timezone.localdate()

    response = client.post(
        reverse("inspections:campaign_create"),
        {
            "name": "页面抽查",
            "authorities": [world.yuzhong.code],
            "stages": ["registration", "permit"],
            "period_start": (today - datetime.timedelta(days=7)).isoformat(),
            "period_end": today.isoformat(),
            "sample_size": "2",
        },
    )
    campaign = SpotCheckCampaign.objects.get()
    assert response.status_code == 302 and response.url == reverse("inspections:campaign", args=[campaign.pk])

    response = client.post(
        reverse("inspections:draw", args=[campaign.pk]), {"seed": "123456789"}, follow=True
    )
    content = response.content.decode()
    assert (
        page_messages(response)[-1]
        == "已抽取样本：符合条件的记录3条，生成抽查事项4个。本次抽取的复核码为123456789（已记录，任何人可用它重抽核对）。"
    )
    assert '<dd id="seed"><code>123456789</code></dd>' in content
    assert content.count('href="/city/spot-checks/items/') == 4

    campaign.refresh_from_db()
    response = client.post(reverse("inspections:draw", args=[campaign.pk]), {"seed": "1"}, follow=True)
    assert page_messages(response) == [
        f"抽查任务“页面抽查”已于{timezone.localtime(campaign.drawn_at):%Y-%m-%d %H:%M}抽取样本（复核码123456789），"
        "不能重复抽取。"
    ]
    assert SpotCheckItem.objects.count() == 4


def test_the_create_page_shows_the_services_refusals_beside_the_fields(client, world):
    client.force_login(world.users.management)
    response = client.post(
        reverse("inspections:campaign_create"),
        {
            "name": "两项都填",
            "authorities": [world.yuzhong.code],
            "stages": ["permit"],
            "period_start": "2026-01-01",
            "period_end": "2026-01-31",
            "sample_size": "2",
            "sample_rate": "5",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["sample_size"] == ["抽查比例与抽查数量须填写且只填写其中一项。"]
    assert not SpotCheckCampaign.objects.exists()


@pytest.mark.parametrize(
    "changes, field, message",
    [
        # An id beyond the database's integer range: the form chooses authorities by code, so no lookup overflows.
        (
            {"authorities": ["99999999999999999999999"]},
            "authorities",
            "所选区县（开发区）不存在：99999999999999999999999。",
        ),
        ({"period_end": "9999-12-31"}, "period_end", "日期须在1949-10-01至2099-12-31之间。"),
    ],
)
def test_the_create_page_refuses_forged_authorities_and_impossible_dates(
    client, world, changes, field, message
):
    client.force_login(world.users.management)
    response = client.post(
        reverse("inspections:campaign_create"),
        {
            "name": "伪造的抽查",
            "authorities": [world.yuzhong.code],
            "stages": ["permit"],
            "period_start": "2026-01-01",
            "period_end": "2026-01-31",
            "sample_size": "2",
            **changes,
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert not SpotCheckCampaign.objects.exists()


def test_the_work_list_shows_the_departments_items_pending_first_and_searches(client, world):
    first = entered(world, name="甲工程")
    second = entered(world, name="乙工程")
    campaign = campaign_of(world, stages=["permit", "completion"], sample_size=2)
    inspection_services.draw_sample(actor=Actor(user=world.users.management), campaign_id=campaign.pk)
    done = SpotCheckItem.objects.get(project=first, stage="permit")
    inspection_services.record_finding(
        actor=Actor(user=world.users.approval), item_id=done.pk, finding="correct", notes=""
    )
    client.force_login(world.users.approval)

    response = client.get(reverse("inspections:work"))
    rows = list(response.context["page"])
    assert [(item.project_id, item.finding) for item in rows] == [
        (second.pk, "pending"),
        (first.pk, "correct"),
    ]
    assert all(item.stage == "permit" for item in rows)

    response = client.get(reverse("inspections:work"), {"q": "甲工程"})
    assert [item.pk for item in response.context["page"]] == [done.pk]
    response = client.get(reverse("inspections:work"), {"q": second.project_number})
    assert [item.project_id for item in response.context["page"]] == [second.pk]
    response = client.get(reverse("inspections:work"), {"finding": "pending"})
    assert [item.project_id for item in response.context["page"]] == [second.pk]


def test_a_finding_is_recorded_on_its_page_with_evidence_served_only_to_city_staff(client, world, drawn):
    item = drawn.items["permit"]
    url = reverse("inspections:item", args=[item.pk])
    client.force_login(world.users.approval)
    page = client.get(url).content.decode()
    assert 'id="finding-form"' in page and "施工许可证编号" in page  # the library's permit stage is shown

    response = client.post(
        url,
        {
            "finding": "false_information",
            "notes": "许可证编号在审批系统中不存在。",
            "evidence": SimpleUploadedFile("核查.pdf", PDF_BYTES),
        },
        follow=True,
    )
    assert page_messages(response) == ["已记录核查结论“信息虚假”。"]
    content = response.content.decode()
    assert 'id="finding-form"' not in content and "许可证编号在审批系统中不存在。" in content
    assert reverse("integrity:blacklist_add", args=[item.pk]) in content

    evidence_url = reverse("inspections:evidence", args=[item.pk])
    response = client.get(evidence_url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Type"] == "application/pdf" and response["X-Content-Type-Options"] == "nosniff"
    client.force_login(world.users.design)  # another department reads findings and evidence
    assert client.get(evidence_url).status_code == 200
    client.force_login(world.clerk)
    assert client.get(evidence_url).status_code == 403
    client.logout()
    assert client.get(evidence_url).status_code == 302


def test_the_finding_page_refuses_another_department_with_a_403_and_audits_it(client, world, drawn):
    item = drawn.items["permit"]
    client.force_login(world.users.design)
    page = client.get(reverse("inspections:item", args=[item.pk])).content.decode()
    assert 'id="finding-form"' not in page and "该环节由市审批服务中心核查" in page

    response = client.post(reverse("inspections:item", args=[item.pk]), {"finding": "correct"})

    assert response.status_code == 403
    item.refresh_from_db()
    assert item.finding == Finding.PENDING
    assert AuditEvent.objects.filter(action="spot_check.finding.refused", actor=world.users.design).exists()


# ---------------------------------------------------------------- queries per page


def _queries(client, url, params=None):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.status_code
    return len(captured)


def test_the_spot_check_pages_run_a_fixed_number_of_queries_at_two_sizes(client, world):
    def grow(count, offset):
        for n in range(count):
            project = entered(world, world.yuzhong if n % 2 else world.jiangbei, name=f"查询工程{offset + n}")
            del project
        campaign = campaign_of(world, authorities=[world.yuzhong, world.jiangbei], sample_rate=Decimal("100"))
        inspection_services.draw_sample(
            actor=Actor(user=world.users.management), campaign_id=campaign.pk, seed=offset
        )
        for item in SpotCheckItem.objects.filter(
            campaign=campaign, department=CityDepartment.APPROVAL_CENTER
        )[:2]:
            inspection_services.record_finding(
                actor=Actor(user=world.users.approval), item_id=item.pk, finding="error", notes="编号有误。"
            )
        return campaign

    client.force_login(world.users.approval)
    small = grow(2, 0)
    item = SpotCheckItem.objects.filter(campaign=small, stage="permit").first()

    def counts(campaign):
        return {
            "campaigns": _queries(client, reverse("inspections:campaigns")),
            "campaigns search": _queries(client, reverse("inspections:campaigns"), {"q": "抽查"}),
            "new campaign": _queries(client, reverse("inspections:campaign_create")),
            "campaign": _queries(client, reverse("inspections:campaign", args=[campaign.pk])),
            "campaign filtered": _queries(
                client, reverse("inspections:campaign", args=[campaign.pk]), {"finding": "error"}
            ),
            "work": _queries(client, reverse("inspections:work")),
            "work search": _queries(client, reverse("inspections:work"), {"q": "查询工程"}),
            "item": _queries(client, reverse("inspections:item", args=[item.pk])),
        }

    at_small = counts(small)
    for batch in range(1, 13):
        large = grow(4, batch * 10)
    assert SpotCheckCampaign.objects.count() == 13
    assert SpotCheckItem.objects.filter(campaign=large).count() == 6 * (2 + 12 * 4)
    at_large = counts(large)

    assert at_small == at_large
    # Session, user, membership and the inbox count on every page; then each page's own reads: a list is its count
    # and its page (+ the campaigns' authorities); an item is the item, its library stage, evidence and orders.
    assert at_large == {
        "campaigns": 7,
        "campaigns search": 7,
        "new campaign": 5,
        "campaign": 8,
        "campaign filtered": 8,
        "work": 6,
        "work search": 6,
        "item": 8,
    }
    assert LibraryEntry.objects.count() == 50


# ---------------------------------------------------------------- a draw that cannot be wasted


def test_it_refuses_a_draw_when_no_record_matches_audits_it_and_leaves_the_campaign_undrawn(world):
    campaign = campaign_of(world, sample_size=2)  # nothing has entered the library in the period
    before = state_of(campaign)

    with pytest.raises(inspection_services.NothingToDraw) as refused:
        inspection_services.draw_sample(actor=Actor(user=world.users.management), campaign_id=campaign.pk)

    assert "没有符合条件的记录" in str(refused.value) and "未抽取" in str(refused.value)
    assert state_of(campaign) == before  # not drawn, no seed, no items: it may still be drawn later
    refusal = AuditEvent.objects.get(action="spot_check.draw.refused")
    assert refusal.actor == world.users.management and refusal.message == str(refused.value)


def test_the_page_shows_how_many_records_match_before_the_draw_and_refuses_a_draw_of_none(client, world):
    client.force_login(world.users.management)
    empty = campaign_of(world, sample_size=2)

    page = client.get(reverse("inspections:campaign", args=[empty.pk])).content.decode()
    assert "目前符合条件的记录：<strong>0</strong>条" in page and 'id="nothing-to-draw"' in page
    assert "disabled" in page.split('id="draw-form"')[1].split("</form>")[0]

    response = client.post(reverse("inspections:draw", args=[empty.pk]), {}, follow=True)  # a forged POST
    assert "没有符合条件的记录" in page_messages(response)[0]
    assert SpotCheckCampaign.objects.filter(pk=empty.pk, drawn_at__isnull=True).exists()

    for n in range(3):
        entered(world, name=f"可抽工程{n}")
    page = client.get(reverse("inspections:campaign", args=[empty.pk])).content.decode()
    assert "目前符合条件的记录：<strong>3</strong>条，按设定将抽取<strong>2</strong>条记录。" in page
    assert 'id="nothing-to-draw"' not in page


def test_a_replayed_draw_is_refused_and_audited(client, world):
    for n in range(3):
        entered(world, name=f"重放工程{n}")
    campaign = campaign_of(world, sample_size=2)
    client.force_login(world.users.management)
    url = reverse("inspections:draw", args=[campaign.pk])
    client.post(url, {})
    drawn = state_of(campaign)

    response = client.post(url, {}, follow=True)  # the same request again: a double click, a replay

    assert "不能重复抽取" in page_messages(response)[-1]
    assert state_of(campaign) == drawn
    assert AuditEvent.objects.filter(action="spot_check.draw.refused").count() == 1


def test_the_live_count_answers_the_conditions_being_filled_in(client, world):
    for n in range(2):
        entered(world, name=f"计数工程{n}")
    client.force_login(world.users.management)
    today = timezone.localdate()
    url = reverse("inspections:matching")
    period = {
        "period_start": (today - datetime.timedelta(days=3)).isoformat(),
        "period_end": today.isoformat(),
    }

    found = client.get(url, {"authorities": [world.yuzhong.code], **period}).json()
    elsewhere = client.get(url, {"authorities": ["LJXQ"], **period}).json()
    unfinished = client.get(url, {"authorities": [world.yuzhong.code]}).json()
    forged = client.get(url, {"authorities": ["NOPE"], **period}).json()

    assert found == {"count": 2, "text": "按目前的条件，共有2条符合条件的记录可供抽取。"}
    assert elsewhere["count"] == 0 and "抽取不到任何样本" in elsewhere["text"]
    assert unfinished["count"] is None and forged["count"] is None


def test_the_form_groups_the_authorities_and_explains_the_draw_in_plain_words(client, world):
    client.force_login(world.users.management)

    page = client.get(reverse("inspections:campaign_create")).content.decode()

    groups = {
        kind: page.split(f'id="group-{kind}"')[1].split("</fieldset>")[0]
        for kind in ("district", "county", "zone")
    }
    assert "渝中区" in groups["district"] and "万州区" in groups["district"]
    assert "城口县" in groups["county"] and "石柱土家族自治县" in groups["county"]
    assert all(name in groups["zone"] for name in ("两江新区", "重庆高新区", "万盛经开区", "双桥经开区"))
    assert sum(group.count('name="authorities"') for group in groups.values()) == 43
    assert all(f'data-select-all="{kind}"' in groups[kind] for kind in groups)
    assert "每条记录被抽中的机会相同" in page and "复核码" in page
    assert "随机种子" not in page and "random" not in page.lower().replace("campaign.js", "")


def test_anyone_of_the_city_redraws_the_sample_with_its_check_code_and_finds_it_the_same(client, world):
    for n in range(5):
        entered(world, name=f"复核工程{n}")
    campaign = campaign_of(world, sample_size=2)
    inspection_services.draw_sample(actor=Actor(user=world.users.management), campaign_id=campaign.pk)
    campaign.refresh_from_db()
    client.force_login(world.users.design)
    before = state_of(campaign)

    same = client.get(reverse("inspections:redraw", args=[campaign.pk])).content.decode()
    entered(world, name="抽取后入库的工程")
    changed = client.get(reverse("inspections:redraw", args=[campaign.pk])).content.decode()

    assert (
        "重抽结果与样本一致" in same
        and f"用复核码{campaign.seed}从目前符合条件的5条记录中重新抽取2条" in same
    )
    result = inspection_services.redraw(campaign)
    assert (result.recorded_population, result.population) == (5, 6)
    # Six records may still give the same two by chance; when they do not, the page says why.
    assert (
        ("重抽结果与样本一致" in changed)
        if result.same
        else ("抽取时符合条件的记录为5条，现在为6条" in changed)
    )
    assert state_of(campaign) == before  # a check, nothing changed
