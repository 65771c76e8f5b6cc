"""Design records in the review console (docs/design-projects.md): routing at submission (an agency with a
reviewer account, or the city's queue), the agency reviewer's queue and decisions, the district reading but not
deciding, the city routing a waiting record, and the refusals (nothing changed, audited)."""

import pytest
from django.urls import reverse

from projects import services as project_services
from projects.audit import Actor
from projects.models import AuditEvent, Notification, ReviewComment, Status
from review import queue
from review.models import ReviewDecision
from tests.builders import (
    make_agency,
    make_agency_reviewer,
    make_city_user,
    make_design_enterprise_user,
    make_design_project,
    make_reviewer,
)

pytestmark = pytest.mark.django_db

OTHER_AGENCY_CODE = "91500103MC00000124"


def change_url(project):
    return reverse("admin:projects_project_change", args=[project.pk])


def decision_url(project, name):
    return reverse(f"admin:projects_project_{name}", args=[project.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture
def designer(db):
    return make_design_enterprise_user(username="designer")


@pytest.fixture
def agency_reviewer(db):
    return make_agency_reviewer(username="agency-reviewer")


def submitted(designer, authority, **kwargs):
    project = make_design_project(designer.membership.enterprise, designer, authority, **kwargs)
    return project_services.submit_project(actor=Actor(user=designer), project=project)


# ---------------------------------------------------------------- routing at submission


def test_a_record_naming_an_agency_with_an_account_goes_to_that_agency(
    designer, agency_reviewer, yuzhong, open_windows
):
    project = submitted(designer, yuzhong)

    assert project.reviewing_agency == agency_reviewer.membership.enterprise
    assert [p.pk for p in queue.todo(agency_reviewer)] == [project.pk]
    submit = AuditEvent.objects.get(project=project, action="project.submit")
    assert submit.changes["reviewing_agency"] == [None, "重庆市施工图审查中心"]


def test_a_record_naming_an_agency_without_an_account_waits_in_the_city_queue(
    client, designer, reviewer, yuzhong, open_windows
):
    make_agency()  # the agency exists, but nobody reviews for it
    city = make_city_user(username="city-routing")
    client.force_login(city)
    # No design record waits: the city's queue has no routing tab.
    assert "design_routing" not in [
        key for key, _label, _n in client.get(reverse("review:queue")).context["tabs"]
    ]

    project = submitted(designer, yuzhong)

    assert project.reviewing_agency is None and project.awaits_routing
    assert list(queue.todo(reviewer)) == []  # not the district's to decide
    assert queue.awaiting_routing(city).count() == 1
    # One waits: the city lands on the routing tab, which lists it.
    response = client.get(reverse("review:queue"))
    assert (
        response.context["tab"] == "design_routing"
        and ("design_routing", "待分派的设计项目", 1) in response.context["tabs"]
    )
    assert f'data-project="{project.pk}"' in response.content.decode()


def test_the_city_gives_a_waiting_record_to_the_district_which_then_decides_it(
    client, designer, reviewer, yuzhong, open_windows
):
    city = make_city_user(username="city-routing")
    project = submitted(designer, yuzhong)
    client.force_login(city)
    page = client.get(reverse("review:design_routing"))
    assert project.name in page.content.decode()

    client.post(reverse("review:route_design_project", args=[project.pk]), {"target": "district"})

    project.refresh_from_db()
    assert project.routed_to_district
    assert AuditEvent.objects.filter(project=project, action="review.route").exists()
    assert Notification.objects.filter(recipient=reviewer, project=project).exists()
    client.force_login(reviewer)
    client.post(decision_url(project, "approve"), {"expected_status": "submitted", "comment": ""})
    project.refresh_from_db()
    assert project.status == Status.IN_NOTICE


def test_the_city_gives_a_waiting_record_to_an_agency_with_an_account(
    client, designer, yuzhong, open_windows
):
    project = submitted(designer, yuzhong)  # its agency has no account
    other = make_agency(credit_code=OTHER_AGENCY_CODE, name="另一审查机构")
    other_reviewer = make_agency_reviewer(other, username="other-agency")
    client.force_login(make_city_user(username="city-routing"))

    client.post(reverse("review:route_design_project", args=[project.pk]), {"target": f"agency:{other.pk}"})

    project.refresh_from_db()
    assert project.reviewing_agency == other
    assert [p.pk for p in queue.todo(other_reviewer)] == [project.pk]


def test_the_city_may_not_route_to_an_agency_without_an_account(client, designer, yuzhong, open_windows):
    project = submitted(designer, yuzhong)
    empty = make_agency(credit_code=OTHER_AGENCY_CODE, name="无账号审查机构")
    client.force_login(make_city_user(username="city-routing"))

    response = client.post(
        reverse("review:route_design_project", args=[project.pk]),
        {"target": f"agency:{empty.pk}"},
        follow=True,
    )

    project.refresh_from_db()
    assert project.awaits_routing
    assert any("尚无审核账号" in m for m in messages_of(response))


# ---------------------------------------------------------------- the agency reviewer decides


def test_the_agency_reviewer_returns_with_a_field_comment_then_approves(
    client, designer, agency_reviewer, yuzhong, open_windows
):
    project = submitted(designer, yuzhong)
    client.force_login(agency_reviewer)
    page = client.get(change_url(project))
    assert page.status_code == 200 and page.context["may_decide"]

    client.post(
        decision_url(project, "return"),
        {
            "expected_status": "submitted",
            "target_1": "drawing_review:designers",
            "text_1": "请补充专业负责人",
        },
    )
    project.refresh_from_db()
    assert project.status == Status.RETURNED
    comment = ReviewComment.objects.get(project=project)
    assert (comment.stage, comment.field, comment.author_organisation) == (
        "drawing_review",
        "designers",
        "重庆市施工图审查中心",
    )
    assert Notification.objects.filter(recipient=designer, project=project, title__contains="退回").exists()

    project = project_services.submit_project(actor=Actor(user=designer), project=project)
    assert project.reviewing_agency == agency_reviewer.membership.enterprise
    client.post(decision_url(project, "approve"), {"expected_status": "submitted", "comment": "同意"})
    project.refresh_from_db()
    assert project.status == Status.IN_NOTICE


def test_the_agency_reviewer_rejects(client, designer, agency_reviewer, yuzhong, open_windows):
    project = submitted(designer, yuzhong)
    client.force_login(agency_reviewer)
    client.post(
        decision_url(project, "reject"),
        {
            "expected_status": "submitted",
            "ground": "false_information",
            "reason": "审查合格书不实",
            "confirmed": "on",
        },
    )
    project.refresh_from_db()
    assert project.status == Status.REJECTED


# ---------------------------------------------------------------- refusals


def test_another_agency_opening_the_record_by_id_sees_nothing_and_is_audited(
    client, designer, agency_reviewer, yuzhong, open_windows
):
    project = submitted(designer, yuzhong)
    other = make_agency_reviewer(
        make_agency(credit_code=OTHER_AGENCY_CODE, name="另一审查机构"), username="x"
    )
    client.force_login(other)

    response = client.get(change_url(project), follow=True)

    assert project.name not in response.content.decode()
    refusal = AuditEvent.objects.filter(action="project.view.refused", actor=other).get()
    assert refusal.object_id == str(project.pk) and refusal.project_id is None


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("approve", {"comment": ""}),
        ("return", {"target_1": ":", "text_1": "请补充"}),
        ("reject", {"ground": "false_information", "reason": "虚假", "confirmed": "on"}),
    ],
)
def test_another_agency_deciding_is_refused_and_audited(
    client, designer, agency_reviewer, yuzhong, open_windows, name, data
):
    project = submitted(designer, yuzhong)
    other = make_agency_reviewer(
        make_agency(credit_code=OTHER_AGENCY_CODE, name="另一审查机构"), username="x"
    )
    client.force_login(other)

    response = client.post(decision_url(project, name), {"expected_status": "submitted", **data}, follow=True)

    project.refresh_from_db()
    assert project.status == Status.SUBMITTED
    assert not ReviewDecision.objects.filter(project=project).exists()
    assert any("只能审核本机构审查的设计项目" in m for m in messages_of(response))
    assert AuditEvent.objects.get(project=project, action=f"review.{name}.refused").actor == other


def test_the_district_reads_a_design_record_but_may_not_decide_it(
    client, designer, agency_reviewer, reviewer, yuzhong, open_windows
):
    project = submitted(designer, yuzhong)
    client.force_login(reviewer)

    page = client.get(change_url(project))
    assert page.status_code == 200 and project.name in page.content.decode()
    assert not page.context["may_decide"]

    response = client.post(decision_url(project, "approve"), {"expected_status": "submitted"}, follow=True)

    project.refresh_from_db()
    assert project.status == Status.SUBMITTED
    assert any("设计项目由施工图审查机构审核" in m for m in messages_of(response))
    assert AuditEvent.objects.get(project=project, action="review.approve.refused").actor == reviewer


def test_an_agency_reviewer_may_not_decide_a_construction_record(
    client, clerk, agency_reviewer, yuzhong, open_windows
):
    from tests.builders import make_project

    project = make_project(clerk.membership.enterprise, clerk, yuzhong)
    project = project_services.submit_project(actor=Actor(user=clerk), project=project)
    client.force_login(agency_reviewer)

    client.post(decision_url(project, "approve"), {"expected_status": "submitted"})

    project.refresh_from_db()
    assert project.status == Status.SUBMITTED
    assert AuditEvent.objects.filter(project=project, action="review.approve.refused").exists()


def test_a_district_reviewer_of_another_area_cannot_see_the_design_record(
    client, designer, agency_reviewer, yuzhong, liangjiang, open_windows
):
    project = submitted(designer, yuzhong)
    client.force_login(make_reviewer(liangjiang, username="lj"))
    assert project.name not in client.get(change_url(project), follow=True).content.decode()
