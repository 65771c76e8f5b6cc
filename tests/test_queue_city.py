"""The work queue for the work later apps hand out (projects.extensions.register_work_count): a district's
更正待处理 (requests waiting for its opinion), the approval service center's (requests sent up for its decision)
and a city department's 抽查待核查 (its pending spot-check items); each a tab with its count, each listed in the
same number of queries at 10 and at 500 rows."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from corrections.models import CorrectionRequest, CorrectionStatus
from inspections.models import Finding, SpotCheckCampaign, SpotCheckItem
from projects.models import CityDepartment, Project, StageCode, Status
from publicity.models import Snapshot

from .builders import make_city_user, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def approver(db):
    return make_city_user(username="approval-center", department=CityDepartment.APPROVAL_CENTER)


@pytest.fixture
def designer(db):
    return make_city_user(username="design-office", department=CityDepartment.DESIGN)


def records(clerk, authority, count, start=0):
    """`count` records of the clerk's enterprise in `authority`'s area, in the library (bulk, no stages)."""
    base = make_project(clerk.membership.enterprise, clerk, authority, evidence=False, stages=False)
    return Project.objects.bulk_create(
        Project(
            enterprise=base.enterprise,
            authority=authority,
            county_code=base.county_code,
            project_number=f"{authority.division_code or '500000'}99{start + n:08d}",
            name=f"批量项目{start + n}",
            address=base.address,
            project_type=base.project_type,
            is_completed=True,
            start_basis=base.start_basis,
            created_by=clerk,
            status=Status.IN_NATIONAL_LIBRARY,
            submitted_at=timezone.now(),
        )
        for n in range(count)
    )


def requests_on(projects, clerk, status):
    """A correction request of `status` on each record (one shared base snapshot: the queue reads none of it)."""
    snapshot = Snapshot.objects.create(project=projects[0], version=1, content={}, reason="测试")
    now = timezone.now()
    return CorrectionRequest.objects.bulk_create(
        CorrectionRequest(
            reference=f"GZ{status[:2].upper()}{project.pk:010d}",
            project=project,
            base_snapshot=snapshot,
            statement="更正说明",
            status=status,
            filed_by=clerk,
            filed_at=now - datetime.timedelta(minutes=project.pk),
        )
        for project in projects
    )


def items_on(projects, city_user, stage, department, finding=Finding.PENDING):
    campaign = SpotCheckCampaign.objects.create(
        name=f"抽查{stage}{finding}",
        stages=[stage],
        period_start=datetime.date(2026, 1, 1),
        period_end=datetime.date(2026, 6, 30),
        sample_size=1,
        created_by=city_user,
        drawn_at=timezone.now(),
        drawn_by=city_user,
        seed=1,
        population_size=len(projects),
    )
    return SpotCheckItem.objects.bulk_create(
        SpotCheckItem(campaign=campaign, project=project, stage=stage, department=department, finding=finding)
        for project in projects
    )


def tabs(response):
    return {key: count for key, _label, count in response.context["tabs"]}


def test_a_district_sees_the_requests_waiting_for_its_opinion(
    client, clerk, reviewer, yuzhong, liangjiang, approver
):
    mine = requests_on(records(clerk, yuzhong, 2), clerk, CorrectionStatus.FILED)
    requests_on(records(clerk, yuzhong, 1, start=10), clerk, CorrectionStatus.AT_CITY)
    requests_on(records(clerk, liangjiang, 1, start=20), clerk, CorrectionStatus.FILED)
    client.force_login(reviewer)

    landing = client.get(reverse("review:queue"))
    response = client.get(reverse("review:queue"), {"tab": "corrections"})

    assert landing.context["tab"] == "todo"  # a reviewer's day still starts at 待我审核
    assert list(tabs(landing)) == ["todo", "notice", "objected", "failed", "corrections"]
    assert tabs(response)["corrections"] == 2
    body = response.content.decode()
    assert "更正待处理" in body and 'aria-current="page">更正待处理' in body
    listed = [correction.reference for correction in response.context["page"]]
    assert listed == [correction.reference for correction in sorted(mine, key=lambda r: r.filed_at)]
    assert all(f'href="{reverse("corrections:detail", args=[ref])}"' in body for ref in listed)


def test_the_approval_center_lands_on_the_requests_sent_up_for_its_decision(
    client, clerk, yuzhong, liangjiang, approver
):
    requests_on(records(clerk, yuzhong, 1), clerk, CorrectionStatus.FILED)
    sent_up = requests_on(records(clerk, liangjiang, 2, start=10), clerk, CorrectionStatus.AT_CITY)
    client.force_login(approver)

    response = client.get(reverse("review:queue"))

    assert response.context["tab"] == "corrections"
    # The center also checks the permit stage's spot-check items: its second tab.
    assert list(tabs(response).items()) == [("corrections", 2), ("spot_checks", 0), ("failed", 0)]
    assert {correction.pk for correction in response.context["page"]} == {r.pk for r in sent_up}


def test_a_department_lands_on_its_pending_spot_check_items_only(client, clerk, yuzhong, designer, approver):
    projects = records(clerk, yuzhong, 4)
    pending = items_on(projects[:2], designer, StageCode.DRAWING_REVIEW, CityDepartment.DESIGN)
    items_on(projects[2:3], designer, StageCode.DRAWING_REVIEW, CityDepartment.DESIGN, Finding.CORRECT)
    items_on(projects[3:], designer, StageCode.PERMIT, CityDepartment.APPROVAL_CENTER)
    client.force_login(designer)

    response = client.get(reverse("review:queue"))

    assert response.context["tab"] == "spot_checks"
    assert list(tabs(response).items()) == [("spot_checks", 2), ("failed", 0)]  # not the center's corrections
    assert {item.pk for item in response.context["page"]} == {item.pk for item in pending}
    body = response.content.decode()
    assert "抽查待核查" in body and reverse("inspections:item", args=[pending[0].pk]) in body


@pytest.mark.parametrize("who", ["city", "superuser"])
def test_the_city_as_a_whole_has_no_routed_work_and_a_superuser_sees_it_all(
    client, request, clerk, yuzhong, approver, who
):
    from django.contrib.auth import get_user_model

    projects = records(clerk, yuzhong, 2)
    requests_on(projects[:1], clerk, CorrectionStatus.AT_CITY)
    items_on(projects, approver, StageCode.PERMIT, CityDepartment.APPROVAL_CENTER)
    user = (
        request.getfixturevalue("city")
        if who == "city"
        else get_user_model().objects.create_superuser("root", "root@example.com", "x")
    )
    client.force_login(user)

    response = client.get(reverse("review:queue"), {"tab": "corrections"})

    expected = [("failed", 0)] if who == "city" else [("corrections", 1), ("spot_checks", 2), ("failed", 0)]
    assert list(tabs(response).items()) == expected
    assert response.context["tab"] == expected[0][0]  # a tab the user does not have falls back to the first


@pytest.mark.parametrize("tab", ["corrections", "spot_checks"])
def test_each_tab_reads_the_same_queries_at_10_and_500_rows(client, clerk, yuzhong, approver, tab):
    def add(count, start):
        projects = records(clerk, yuzhong, count, start=start)
        if tab == "corrections":
            requests_on(projects, clerk, CorrectionStatus.AT_CITY)
        else:
            items_on(projects, approver, StageCode.PERMIT, CityDepartment.APPROVAL_CENTER)

    client.force_login(approver)

    def count():
        client.get(reverse("review:queue"), {"tab": tab})
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("review:queue"), {"tab": tab})
        assert response.status_code == 200
        return len(queries), len(response.context["page"].object_list)

    add(10, 0)
    at_10, rows_10 = count()
    add(490, 1000)
    at_500, rows_500 = count()
    assert (rows_10, rows_500) == (10, 50)
    assert at_10 == at_500, (at_10, at_500)


def test_a_department_no_stage_is_routed_to_has_no_spot_check_tab(client, db):
    management = make_city_user(username="jgc", department=CityDepartment.CONSTRUCTION_MANAGEMENT)
    client.force_login(management)

    response = client.get(reverse("review:queue"))

    assert list(tabs(response)) == ["failed"]
