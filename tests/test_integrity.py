"""Integrity: the blacklist that a false-information finding can back, what it blocks (starting and submitting
backfills), lifting and expiry, the public query and the exports, and the ledger of deductions."""

import csv
import datetime
import io
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from inspections import services as inspection_services
from inspections.models import SpotCheckItem
from integrity import selectors as integrity_selectors
from integrity import services as integrity_services
from integrity.models import Blacklisting, IntegrityDeduction
from projects import services as project_services
from projects.audit import Actor
from projects.models import (
    AuditEvent,
    CityDepartment,
    Notification,
    Project,
    ProjectType,
    RecordLocked,
    Status,
)
from tests.builders import (
    EnterpriseFactory,
    enter_library,
    make_city_user,
    make_enterprise_user,
    make_project,
    make_reviewer,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(authorities, open_windows):
    yuzhong = authorities["500103"]
    clerk = make_enterprise_user(username="clerk", enterprise=EnterpriseFactory(name="重庆虚报建设有限公司"))
    other_clerk = make_enterprise_user(
        username="other-clerk", enterprise=EnterpriseFactory(name="重庆守信建设有限公司")
    )
    users = SimpleNamespace(
        clerk=clerk,
        other_clerk=other_clerk,
        reviewer=make_reviewer(yuzhong, username="reviewer"),
        approval=make_city_user(username="spzx", department=CityDepartment.APPROVAL_CENTER),
        management=make_city_user(username="jgc", department=CityDepartment.CONSTRUCTION_MANAGEMENT),
    )
    enterprise = clerk.membership.enterprise
    entered = enter_library(make_project(enterprise, clerk, yuzhong, evidence=False, name="虚报工程"))
    campaign = inspection_services.create_campaign(
        actor=Actor(user=users.management),
        name="诚信测试抽查",
        authorities=[yuzhong],
        stages=["permit", "completion"],
        period_start=timezone.localdate() - datetime.timedelta(days=10),
        period_end=timezone.localdate(),
        sample_size=1,
    )
    inspection_services.draw_sample(actor=Actor(user=users.management), campaign_id=campaign.pk, seed=1)
    permit = SpotCheckItem.objects.get(campaign=campaign, stage="permit")
    inspection_services.record_finding(
        actor=Actor(user=users.approval),
        item_id=permit.pk,
        finding="false_information",
        notes="许可证系伪造。",
    )
    return SimpleNamespace(
        yuzhong=yuzhong,
        users=users,
        enterprise=enterprise,
        entered=entered,
        false_item=SpotCheckItem.objects.get(pk=permit.pk),
        pending_item=SpotCheckItem.objects.get(campaign=campaign, stage="completion"),
    )


def days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


def list_enterprise(world, *, starts=0, ends=365, user=None):
    return integrity_services.blacklist(
        actor=Actor(user=user or world.users.management),
        source_item_id=world.false_item.pk,
        reason="补录项目施工许可信息虚假。",
        starts_on=days(starts),
        ends_on=days(ends),
    )


def project_data():
    return {
        "authority": None,
        "project_number": "",
        "county_code": "",
        "name": "黑名单期间新建的工程",
        "address": "重庆市渝中区民族路2号",
        "project_type": ProjectType.BUILDING_GENERAL,
        "is_classified": False,
        "is_completed": True,
        "start_basis": "permit",
        "already_in_national_library": False,
        "total_investment": None,
        "total_area": None,
    }


def blocked_message(world, listing) -> str:
    return (
        f"重庆虚报建设有限公司已被列入建筑市场黑名单（{listing.starts_on:%Y-%m-%d}至{listing.ends_on:%Y-%m-%d}），"
        "列入期间不能新建或提交补录项目。如有异议，请联系重庆市城乡建设委员会。"
    )


# ---------------------------------------------------------------- enforcement


def test_a_blacklisted_enterprise_can_neither_start_nor_submit_and_each_refusal_is_audited(world):
    draft = make_project(world.enterprise, world.users.clerk, world.yuzhong, name="待提交工程")
    listing = list_enterprise(world)
    actor = Actor(user=world.users.clerk)
    projects_before = Project.objects.count()

    with pytest.raises(PermissionDenied) as refused:
        project_services.create_project(actor=actor, data={**project_data(), "authority": world.yuzhong})
    assert str(refused.value) == blocked_message(world, listing)
    assert Project.objects.count() == projects_before

    with pytest.raises(PermissionDenied) as refused:
        project_services.submit_project(actor=actor, project=draft)
    assert str(refused.value) == blocked_message(world, listing)
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT and not draft.versions.exists()

    create_refusal = AuditEvent.objects.get(action="project.create.refused")
    assert (create_refusal.actor, create_refusal.object_type, create_refusal.message) == (
        world.users.clerk,
        "enterprise",
        blocked_message(world, listing),
    )
    submit_refusal = AuditEvent.objects.get(action="project.submit.refused")
    assert (submit_refusal.project, submit_refusal.message) == (draft, blocked_message(world, listing))

    # Another enterprise is not concerned.
    other = Actor(user=world.users.other_clerk)
    created = project_services.create_project(
        actor=other, data={**project_data(), "authority": world.yuzhong}
    )
    assert created.enterprise == world.users.other_clerk.membership.enterprise


def test_lifting_the_listing_unblocks_the_enterprise(world):
    draft = make_project(world.enterprise, world.users.clerk, world.yuzhong, name="解除后提交工程")
    listing = list_enterprise(world)
    assert integrity_selectors.is_blacklisted(world.enterprise)

    integrity_services.lift_blacklisting(
        actor=Actor(user=world.users.management),
        blacklisting_id=listing.pk,
        reason="经复核，企业已整改并说明情况。",
    )

    assert not integrity_selectors.is_blacklisted(world.enterprise)
    submitted = project_services.submit_project(actor=Actor(user=world.users.clerk), project=draft)
    assert submitted.status == Status.SUBMITTED
    project_services.create_project(
        actor=Actor(user=world.users.clerk), data={**project_data(), "authority": world.yuzhong}
    )
    listing.refresh_from_db()
    assert (
        listing.lifted_by == world.users.management
        and listing.lift_reason == "经复核，企业已整改并说明情况。"
    )
    assert AuditEvent.objects.filter(action="integrity.lift").count() == 1
    assert Notification.objects.filter(
        recipient=world.users.clerk, title="贵企业已移出建筑市场黑名单"
    ).exists()


def test_the_end_date_passing_unblocks_the_enterprise(world):
    listing = list_enterprise(world, starts=0, ends=0)  # in force today only
    assert integrity_selectors.is_blacklisted(world.enterprise, on=days(0))
    assert project_services.enterprise_restriction(world.enterprise) == blocked_message(world, listing)

    assert not integrity_selectors.is_blacklisted(world.enterprise, on=days(1))
    assert project_services.enterprise_restriction(world.enterprise, on=days(1)) is None
    # The day passes: the same listing, now ended yesterday.
    Blacklisting.objects.filter(pk=listing.pk).update(starts_on=days(-30), ends_on=days(-1))
    draft = make_project(world.enterprise, world.users.clerk, world.yuzhong, name="届满后提交工程")
    assert (
        project_services.submit_project(actor=Actor(user=world.users.clerk), project=draft).status
        == "submitted"
    )


def test_a_listing_that_has_not_started_does_not_block_yet(world):
    list_enterprise(world, starts=5, ends=30)
    assert not integrity_selectors.is_blacklisted(world.enterprise)
    assert integrity_selectors.is_blacklisted(world.enterprise, on=days(5))


# ---------------------------------------------------------------- what may back a listing


@pytest.mark.parametrize("finding", ["pending", "correct", "error"])
def test_only_a_false_information_finding_can_back_a_listing(world, finding):
    item = world.pending_item
    if finding != "pending":
        SpotCheckItem.objects.filter(pk=item.pk).update(finding=finding, notes="说明")
        item.refresh_from_db()

    with pytest.raises(ValidationError) as refused:
        integrity_services.blacklist(
            actor=Actor(user=world.users.management),
            source_item_id=item.pk,
            reason="理由",
            starts_on=days(0),
            ends_on=days(30),
        )

    assert refused.value.message_dict["source_item"] == [
        f"该抽查事项的核查结论为“{item.get_finding_display()}”：只有核查结论为“信息虚假”的抽查事项才能作为列入黑名单的依据。"
    ]
    assert not Blacklisting.objects.exists()


def test_it_refuses_dates_out_of_order_a_missing_reason_and_a_repeat(world):
    actor = Actor(user=world.users.management)
    with pytest.raises(ValidationError) as refused:
        integrity_services.blacklist(
            actor=actor, source_item_id=world.false_item.pk, reason=" ", starts_on=days(10), ends_on=days(9)
        )
    assert refused.value.message_dict == {
        "reason": ["请写明列入黑名单的原因。"],
        "ends_on": [f"届满日期（{days(9):%Y-%m-%d}）不能早于列入日期（{days(10):%Y-%m-%d}）。"],
    }
    listing = list_enterprise(world)
    with pytest.raises(RecordLocked) as refused:
        list_enterprise(world)
    assert str(refused.value) == (
        f"该企业已依据此抽查结论列入黑名单（{listing.starts_on:%Y-%m-%d}至{listing.ends_on:%Y-%m-%d}），不能重复列入。"
    )
    assert Blacklisting.objects.count() == 1


def test_only_city_staff_list_lift_or_deduct_and_the_refusals_are_audited(world):
    listing = list_enterprise(world)
    for user in (world.users.clerk, world.users.reviewer):
        with pytest.raises(PermissionDenied, match="只有市级管理人员可以将企业列入黑名单。"):
            list_enterprise(world, user=user)
        with pytest.raises(PermissionDenied, match="只有市级管理人员可以将企业移出黑名单。"):
            integrity_services.lift_blacklisting(
                actor=Actor(user=user), blacklisting_id=listing.pk, reason="想移出"
            )
        with pytest.raises(PermissionDenied, match="只有市级管理人员可以扣减诚信分。"):
            integrity_services.deduct_points(
                actor=Actor(user=user), enterprise=world.enterprise, points=5, reason="x"
            )
    listing.refresh_from_db()
    assert listing.lifted_at is None and not IntegrityDeduction.objects.exists()
    refused = AuditEvent.objects.filter(action__startswith="integrity.", action__endswith=".refused")
    assert sorted(refused.values_list("action", flat=True)) == sorted(
        ["integrity.blacklist.refused", "integrity.lift.refused", "integrity.deduct.refused"] * 2
    )


def test_a_lift_needs_a_reason_and_happens_once(world):
    listing = list_enterprise(world)
    actor = Actor(user=world.users.management)
    with pytest.raises(ValidationError) as refused:
        integrity_services.lift_blacklisting(actor=actor, blacklisting_id=listing.pk, reason="")
    assert refused.value.message_dict["reason"] == ["请写明提前移出黑名单的原因。"]
    integrity_services.lift_blacklisting(actor=actor, blacklisting_id=listing.pk, reason="复核撤销")
    with pytest.raises(RecordLocked, match="移出，无需重复操作。"):
        integrity_services.lift_blacklisting(actor=actor, blacklisting_id=listing.pk, reason="再次")


# ---------------------------------------------------------------- the ledger


def test_the_integrity_score_is_the_base_minus_every_deduction_never_below_zero(world):
    actor = Actor(user=world.users.management)
    assert integrity_selectors.integrity_score(world.enterprise) == Decimal("100")
    integrity_services.deduct_points(
        actor=actor,
        enterprise=world.enterprise,
        points="12.5",
        reason="信息虚假",
        source_item=world.false_item,
    )
    integrity_services.deduct_points(actor=actor, enterprise=world.enterprise, points=20, reason="逾期未更正")
    assert integrity_selectors.integrity_score(world.enterprise) == Decimal("67.5")
    for _ in range(4):
        integrity_services.deduct_points(
            actor=actor, enterprise=world.enterprise, points=30, reason="多次虚报"
        )
    assert integrity_selectors.integrity_score(world.enterprise) == Decimal("0")
    assert integrity_selectors.integrity_score(world.users.other_clerk.membership.enterprise) == Decimal(
        "100"
    )
    assert AuditEvent.objects.filter(action="integrity.deduct").count() == 6


@pytest.mark.parametrize(
    "points, field, message",
    [
        (0, "points", "扣分须大于0且不超过100分。"),
        (-3, "points", "扣分须大于0且不超过100分。"),
        (101, "points", "扣分须大于0且不超过100分。"),
        ("1.25", "points", "扣分最多保留一位小数。"),
        ("abc", "points", "扣分须大于0且不超过100分。"),
    ],
)
def test_it_refuses_bad_points(world, points, field, message):
    with pytest.raises(ValidationError) as refused:
        integrity_services.deduct_points(
            actor=Actor(user=world.users.management),
            enterprise=world.enterprise,
            points=points,
            reason="原因",
        )
    assert refused.value.message_dict[field] == [message]
    assert not IntegrityDeduction.objects.exists()


def test_a_deduction_rests_only_on_a_problem_finding_of_the_same_enterprise(world):
    actor = Actor(user=world.users.management)
    with pytest.raises(ValidationError) as refused:
        integrity_services.deduct_points(
            actor=actor, enterprise=world.enterprise, points=5, reason="x", source_item=world.pending_item
        )
    assert refused.value.message_dict["source_item"] == [
        "所依据的抽查事项核查结论为“待核查”：只有信息有误或信息虚假才能扣分。"
    ]
    with pytest.raises(ValidationError) as refused:
        integrity_services.deduct_points(
            actor=actor,
            enterprise=world.users.other_clerk.membership.enterprise,
            points=5,
            reason="x",
            source_item=world.false_item,
        )
    assert refused.value.message_dict["source_item"] == ["所依据的抽查事项不是该企业的项目。"]


# ---------------------------------------------------------------- the register: query and exports


@pytest.fixture
def register(world):
    """Three listings: the world's (in force), a lifted one and an ended one of other enterprises."""
    current = list_enterprise(world)
    others = []
    for n, name in enumerate(["重庆已移出建设有限公司", "重庆已届满建设有限公司"]):
        clerk = make_enterprise_user(username=f"reg-{n}", enterprise=EnterpriseFactory(name=name))
        project = enter_library(
            make_project(clerk.membership.enterprise, clerk, world.yuzhong, evidence=False)
        )
        item = SpotCheckItem.objects.create(
            campaign=world.false_item.campaign,
            project=project,
            stage="permit",
            department=CityDepartment.APPROVAL_CENTER,
            finding="false_information",
            notes="内部核查说明：不公开",
        )
        listing = integrity_services.blacklist(
            actor=Actor(user=world.users.management),
            source_item_id=item.pk,
            reason=f'=HYPERLINK("x") {name}虚报',
            starts_on=days(-100),
            ends_on=days(100),
        )
        others.append(listing)
    lifted, ended = others
    integrity_services.lift_blacklisting(
        actor=Actor(user=world.users.management), blacklisting_id=lifted.pk, reason="撤销"
    )
    Blacklisting.objects.filter(pk=ended.pk).update(ends_on=days(-1))
    return SimpleNamespace(current=current, lifted=lifted, ended=ended)


def test_the_public_query_shows_listings_in_force_with_public_columns_only(client, world, register):
    response = client.get(reverse("integrity:blacklist_public"))
    content = response.content.decode()

    assert response.status_code == 200
    assert [listing.pk for listing in response.context["page"]] == [register.current.pk]
    for shown in ("重庆虚报建设有限公司", world.enterprise.credit_code, "补录项目施工许可信息虚假。"):
        assert shown in content
    for hidden in ("许可证系伪造。", "内部核查说明", "jgc", "spzx", "已移出", "已届满", "/city/"):
        assert hidden not in content

    by_code = client.get(
        reverse("integrity:blacklist_public"), {"credit_code": world.enterprise.credit_code.lower()}
    )
    assert [listing.pk for listing in by_code.context["page"]] == [register.current.pk]
    clean = client.get(
        reverse("integrity:blacklist_public"),
        {"credit_code": world.users.other_clerk.membership.enterprise.credit_code},
    )
    assert list(clean.context["page"]) == []
    assert "目前未被列入黑名单" in clean.content.decode()
    # "all" is for city staff: the public page ignores it.
    assert len(client.get(reverse("integrity:blacklist_public"), {"scope": "all"}).context["page"]) == 1


def test_a_malformed_credit_code_is_refused_with_the_identifiers_message(client, world, register):
    wrong = world.enterprise.credit_code[:-1] + ("1" if world.enterprise.credit_code[-1] != "1" else "2")
    response = client.get(reverse("integrity:blacklist_public"), {"credit_code": wrong})
    assert list(response.context["page"]) == []
    assert response.context["form"].errors["credit_code"] == [
        f"统一社会信用代码“{wrong}”无效：应为18位数字或大写字母，且校验码须符合GB 32100-2015。"
    ]
    assert (
        list(
            integrity_selectors.blacklist_rows(
                integrity_selectors.BlacklistQuery(credit_code=wrong, include_ended=True)
            )
        )
        == []
    )


def test_the_city_register_queries_by_credit_code_and_scope(client, world, register):
    client.force_login(world.users.management)
    url = reverse("integrity:blacklist_manage")
    assert [row[0].pk for row in client.get(url).context["rows"]] == [register.current.pk]
    everything = client.get(url, {"scope": "all"}).context["rows"]
    assert sorted((listing.pk, state) for listing, state in everything) == sorted(
        [(register.current.pk, "列入中"), (register.lifted.pk, "已提前移出"), (register.ended.pk, "已届满")]
    )
    code = register.lifted.enterprise.credit_code
    assert [row[0].pk for row in client.get(url, {"scope": "all", "credit_code": code}).context["rows"]] == [
        register.lifted.pk
    ]


def _expected_rows(*listings):
    rows = []
    for listing in listings:
        listing.refresh_from_db()
        rows.append(
            [
                listing.enterprise.name,
                listing.enterprise.credit_code,
                listing.reason,
                f"{listing.starts_on:%Y-%m-%d}",
                f"{listing.ends_on:%Y-%m-%d}",
                integrity_selectors.listing_state(listing),
                f"{timezone.localtime(listing.lifted_at):%Y-%m-%d}" if listing.lifted_at else "",
                listing.lift_reason,
            ]
        )
    return rows


def test_the_excel_export_parses_back_with_the_right_rows(client, world, register):
    client.force_login(world.users.management)
    response = client.get(reverse("integrity:blacklist_export_xlsx"), {"scope": "all"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content), read_only=True)["黑名单"]
    rows = [[cell if cell is not None else "" for cell in row] for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == integrity_selectors.EXPORT_HEADERS
    expected = _expected_rows(*Blacklisting.objects.order_by("-starts_on", "-id"))
    assert rows[1:] == expected
    assert len(expected) == 3
    # A reason typed as "=HYPERLINK(...)" is stored as text, not as a formula Excel would run.
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row if cell.value]
    assert any(str(cell.value).startswith("=HYPERLINK") for cell in cells)
    assert {cell.data_type for cell in cells} == {"s"}

    by_code = client.get(
        reverse("integrity:blacklist_export_xlsx"), {"credit_code": world.enterprise.credit_code}
    )
    sheet = load_workbook(io.BytesIO(by_code.content), read_only=True)["黑名单"]
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == [world.enterprise.credit_code]


def test_the_csv_export_is_utf8_with_a_bom_and_parses_back_with_the_right_rows(client, world, register):
    client.force_login(world.users.management)
    response = client.get(reverse("integrity:blacklist_export_csv"), {"scope": "all"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == integrity_selectors.EXPORT_HEADERS
    expected = _expected_rows(*Blacklisting.objects.order_by("-starts_on", "-id"))
    # A cell a spreadsheet would run as a formula is written as text.
    for row in expected:
        row[2] = "'" + row[2] if row[2].startswith("=") else row[2]
    assert rows[1:] == expected
    assert any(row[2].startswith("'=HYPERLINK") for row in rows[1:])


def test_a_listing_is_added_and_lifted_through_the_pages(client, world):
    client.force_login(world.users.management)
    add_url = reverse("integrity:blacklist_add", args=[world.false_item.pk])
    form = client.get(add_url).context["form"]
    assert form.initial["starts_on"] == timezone.localdate()

    response = client.post(
        add_url,
        {"reason": "施工许可信息虚假。", "starts_on": days(0).isoformat(), "ends_on": days(180).isoformat()},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == ["已将重庆虚报建设有限公司列入黑名单。"]
    listing = Blacklisting.objects.get()
    assert listing.ends_on == days(180) and listing.listed_by == world.users.management

    # The enterprise sees it on its pages.
    client.force_login(world.users.clerk)
    content = client.get(reverse("projects:project_list")).content.decode()
    assert 'id="restriction"' in content and blocked_message(world, listing) in content
    posted = {name: "" if value is None else value for name, value in project_data().items()}
    response = client.post(reverse("projects:project_create"), {**posted, "authority": world.yuzhong.pk})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [blocked_message(world, listing)]

    client.force_login(world.users.management)
    response = client.post(
        reverse("integrity:blacklist_lift", args=[listing.pk]), {"reason": "复核撤销"}, follow=True
    )
    assert [str(m) for m in response.context["messages"]] == ["已将重庆虚报建设有限公司提前移出黑名单。"]
    client.force_login(world.users.clerk)
    assert 'id="restriction"' not in client.get(reverse("projects:project_list")).content.decode()


def test_the_add_page_refuses_an_item_that_is_not_false_information(client, world):
    client.force_login(world.users.management)
    url = reverse("integrity:blacklist_add", args=[world.pending_item.pk])
    assert "只有核查结论为“信息虚假”的抽查事项才能作为列入黑名单的依据" in client.get(url).content.decode()
    response = client.post(
        url, {"reason": "x", "starts_on": days(0).isoformat(), "ends_on": days(9).isoformat()}
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "该抽查事项的核查结论为“待核查”：只有核查结论为“信息虚假”的抽查事项才能作为列入黑名单的依据。"
    ]
    assert not Blacklisting.objects.exists()


def test_a_deduction_is_recorded_on_the_ledger_page(client, world):
    client.force_login(world.users.management)
    url = reverse("integrity:ledger", args=[world.enterprise.pk])
    response = client.post(
        url,
        {"points": "7.5", "reason": "施工许可信息虚假。", "source_item": str(world.false_item.pk)},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == ["已对重庆虚报建设有限公司扣7.5分。"]
    assert response.context["score"] == Decimal("92.5")
    line = IntegrityDeduction.objects.get()
    assert (line.points, line.source_item) == (Decimal("7.5"), world.false_item)
    listed = client.get(reverse("integrity:enterprises"), {"q": world.enterprise.credit_code})
    assert [(e.pk, score) for e, score in listed.context["rows"]] == [(world.enterprise.pk, Decimal("92.5"))]


# ---------------------------------------------------------------- queries per page


def _queries(client, url, params=None):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200, (url, response.status_code)
    return len(captured)


def test_the_integrity_pages_run_a_fixed_number_of_queries_at_two_sizes(client, world):
    actor = Actor(user=world.users.management)

    def grow(count):
        for _ in range(count):
            clerk = make_enterprise_user()
            project = enter_library(
                make_project(clerk.membership.enterprise, clerk, world.yuzhong, evidence=False)
            )
            item = SpotCheckItem.objects.create(
                campaign=world.false_item.campaign,
                project=project,
                stage="permit",
                department=CityDepartment.APPROVAL_CENTER,
                finding="false_information",
                notes="虚假",
            )
            integrity_services.blacklist(
                actor=actor, source_item_id=item.pk, reason="虚假", starts_on=days(0), ends_on=days(30)
            )
            integrity_services.deduct_points(
                actor=actor, enterprise=world.enterprise, points=1, reason="扣分"
            )
            integrity_services.deduct_points(
                actor=actor, enterprise=clerk.membership.enterprise, points=2, reason="扣分", source_item=item
            )

    def counts():
        client.force_login(world.users.management)
        city = {
            "register": _queries(client, reverse("integrity:blacklist_manage")),
            "register by code": _queries(
                client, reverse("integrity:blacklist_manage"), {"credit_code": world.enterprise.credit_code}
            ),
            "register all": _queries(client, reverse("integrity:blacklist_manage"), {"scope": "all"}),
            "xlsx": _queries(client, reverse("integrity:blacklist_export_xlsx"), {"scope": "all"}),
            "csv": _queries(client, reverse("integrity:blacklist_export_csv"), {"scope": "all"}),
            "enterprises": _queries(client, reverse("integrity:enterprises")),
            "ledger": _queries(client, reverse("integrity:ledger", args=[world.enterprise.pk])),
            "add": _queries(client, reverse("integrity:blacklist_add", args=[world.false_item.pk])),
        }
        client.logout()
        return {
            **city,
            "public": _queries(client, reverse("integrity:blacklist_public")),
            "public by code": _queries(
                client, reverse("integrity:blacklist_public"), {"credit_code": world.enterprise.credit_code}
            ),
        }

    list_enterprise(world)
    grow(2)
    at_2 = counts()
    grow(40)
    assert Blacklisting.objects.count() == 43
    at_42 = counts()

    assert at_2 == at_42
    assert at_42 == {
        "register": 6,
        "register by code": 6,
        "register all": 6,
        "xlsx": 4,
        "csv": 4,
        "enterprises": 6,
        "ledger": 9,
        "add": 5,
        "public": 2,
        "public by code": 2,
    }


def test_a_blacklisted_enterprises_import_is_refused_whole_and_audited(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from imports import services as import_services
    from imports.models import JobStatus
    from tests.import_builders import fill, project_row

    list_enterprise(world)
    before = Project.objects.count()
    job = import_services.start_import(
        actor=Actor(user=world.users.clerk),
        workbook=SimpleUploadedFile(
            "a.xlsx", fill([project_row(world.enterprise), project_row(world.enterprise)])
        ),
    )
    job = import_services.run_job(job.pk)
    assert job.status == JobStatus.FAILED and "黑名单" in job.message
    assert Project.objects.count() == before
    assert AuditEvent.objects.filter(action="import.run.refused", actor=world.users.clerk).exists()
