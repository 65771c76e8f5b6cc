"""Corrections, spot checks and integrity moved out of review (into corrections, inspections, integrity) without
losing a row: a database at the last migrations before the move, with a row in every moved table, migrates
forward and the new models read the same rows, the moved link from a spot-check item to its correction order
included. Runs on SQLite and PostgreSQL alike."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [
    ("projects", "0008_project_name_trigram"),
    ("publicity", "0003_public_search_indexes"),
    ("review", "0002_corrections_spot_checks_integrity"),
    ("corrections", None),
    ("inspections", None),
    ("integrity", None),
]
AFTER = [
    ("projects", "0008_project_name_trigram"),
    ("publicity", "0003_public_search_indexes"),
    ("review", "0003_move_corrections_inspections_integrity"),
    ("corrections", "0001_initial"),
    ("inspections", "0002_spotcheckitem_correction_order"),
    ("integrity", "0001_initial"),
]
MOVED_TABLES = [
    "review_correctionorder",
    "review_correctionrequest",
    "review_correctionitem",
    "review_correctionevidence",
    "review_spotcheckcampaign",
    "review_spotcheckcampaign_authorities",
    "review_spotcheckitem",
    "review_blacklisting",
    "review_integritydeduction",
]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()  # the graph as the database has it now
    executor.migrate(targets)
    return executor.loader.project_state([target for target in targets if target[1]]).apps


def row_counts():
    with connection.cursor() as cursor:
        counts = {}
        for table in MOVED_TABLES:
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
        return counts


def populate(apps):
    """One row or more in every moved table, at the state before the move (historical models)."""
    User = apps.get_model("auth", "User")
    Authority = apps.get_model("projects", "Authority")
    Enterprise = apps.get_model("projects", "Enterprise")
    Project = apps.get_model("projects", "Project")
    Snapshot = apps.get_model("publicity", "Snapshot")
    review = {name: apps.get_model("review", name) for name in (
        "CorrectionOrder", "CorrectionRequest", "CorrectionItem", "CorrectionEvidence",
        "SpotCheckCampaign", "SpotCheckItem", "Blacklisting", "IntegrityDeduction",
    )}  # fmt: skip
    now = timezone.now()
    today = timezone.localdate()
    user = User.objects.create(username="move-city")
    yuzhong = Authority.objects.create(code="500103", name="渝中区")
    jiangbei = Authority.objects.create(code="500105", name="江北区")
    enterprise = Enterprise.objects.create(credit_code="91500000MA5U000001", name="迁移测试建设有限公司")
    projects = [
        Project.objects.create(
            enterprise=enterprise,
            authority=yuzhong,
            name=f"迁移工程{n}",
            project_number=f"50010320260000{n:02d}",
            created_by=user,
        )
        for n in range(2)
    ]
    snapshot = Snapshot.objects.create(
        project=projects[0], version=1, content={"project": {}, "stages": {}}, content_hash="0" * 64
    )
    campaign = review["SpotCheckCampaign"].objects.create(
        name="2026年迁移抽查",
        stages=["permit"],
        period_start=today,
        period_end=today,
        sample_size=2,
        seed=42,
        created_by=user,
    )
    campaign.authorities.add(yuzhong, jiangbei)
    linked_item, other_item = (
        review["SpotCheckItem"].objects.create(
            campaign=campaign, project=project, stage="permit", department="approval_center", finding="error"
        )
        for project in projects
    )
    linked_order = review["CorrectionOrder"].objects.create(
        project=projects[0],
        finding="抽查发现施工许可证号有误。",
        spot_check_item=linked_item,
        issued_by=user,
        issuer_name="市审批服务中心",
        due_on=today + datetime.timedelta(days=30),
    )
    plain_order = review["CorrectionOrder"].objects.create(
        project=projects[1], finding="合同金额有误。", issued_by=user, issuer_name="渝中区", due_on=today
    )
    request = review["CorrectionRequest"].objects.create(
        reference="GZMOVE00001",
        project=projects[0],
        base_snapshot=snapshot,
        order=linked_order,
        statement="答复更正通知。",
        status="filed",
        filed_by=user,
    )
    review["CorrectionItem"].objects.create(
        request=request, stage="permit", field_name="permit_number", proposed_value="X-1", reason="笔误"
    )
    review["CorrectionEvidence"].objects.create(
        request=request,
        file="corrections/GZMOVE00001/abc",
        original_name="说明.pdf",
        content_type="application/pdf",
        size=4,
        sha256="1" * 64,
        uploaded_by=user,
    )
    review["Blacklisting"].objects.create(
        enterprise=enterprise,
        reason="信息虚假。",
        source_item=linked_item,
        starts_on=today,
        ends_on=today + datetime.timedelta(days=365),
        listed_by=user,
        listed_at=now,
    )
    review["IntegrityDeduction"].objects.create(
        enterprise=enterprise,
        points=Decimal("5.0"),
        reason="信息有误。",
        source_item=other_item,
        recorded_by=user,
    )
    return {
        "linked_item": linked_item.pk,
        "other_item": other_item.pk,
        "linked_order": linked_order.pk,
        "plain_order": plain_order.pk,
        "campaign": campaign.pk,
        "authorities": {yuzhong.pk, jiangbei.pk},
    }


@pytest.mark.django_db(transaction=True)
def test_it_keeps_every_row_and_the_spot_check_link_when_the_models_move():
    try:
        check_the_move()
    finally:
        # The tests after this one need the database at its head, whatever happened here: every app's latest
        # migration (AFTER is only the head of the move; later migrations were rolled back by BEFORE too).
        migrate(head())


def head():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def check_the_move():
    populate_apps = migrate(BEFORE)
    ids = populate(populate_apps)
    before = row_counts()
    assert all(before.values()), before

    apps = migrate(AFTER)

    assert row_counts() == before
    SpotCheckItem = apps.get_model("inspections", "SpotCheckItem")
    SpotCheckCampaign = apps.get_model("inspections", "SpotCheckCampaign")
    CorrectionOrder = apps.get_model("corrections", "CorrectionOrder")
    CorrectionRequest = apps.get_model("corrections", "CorrectionRequest")
    Blacklisting = apps.get_model("integrity", "Blacklisting")
    IntegrityDeduction = apps.get_model("integrity", "IntegrityDeduction")
    # The link now points from the item to the order, and only the linked item has one.
    assert SpotCheckItem.objects.get(pk=ids["linked_item"]).correction_order_id == ids["linked_order"]
    assert SpotCheckItem.objects.get(pk=ids["other_item"]).correction_order_id is None
    assert CorrectionOrder.objects.get(pk=ids["linked_order"]).spot_check_item.pk == ids["linked_item"]
    assert "spot_check_item_id" not in {
        column.name for column in connection.introspection.get_table_description(
            connection.cursor(), "review_correctionorder"
        )
    }  # fmt: skip
    campaign = SpotCheckCampaign.objects.get(pk=ids["campaign"])
    assert set(campaign.authorities.values_list("pk", flat=True)) == ids["authorities"]
    request = CorrectionRequest.objects.get(reference="GZMOVE00001")
    assert (request.order_id, request.items.get().proposed_value) == (ids["linked_order"], "X-1")
    assert request.evidence.get().original_name == "说明.pdf"
    assert Blacklisting.objects.get().source_item_id == ids["linked_item"]
    assert IntegrityDeduction.objects.get().points == Decimal("5.0")

    # And back: the link returns to the order, so the move can be rolled back without loss too.
    old_apps = migrate(BEFORE)
    assert row_counts() == before
    old_order = old_apps.get_model("review", "CorrectionOrder").objects.get(pk=ids["linked_order"])
    assert old_order.spot_check_item_id == ids["linked_item"]
