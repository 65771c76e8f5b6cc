"""The city's figures for design records (docs/figures.md, docs/design-projects.md): a row per drawing-review
agency, the city's routing queue counted, and a district counting only the design records routed to it."""

import pytest
from django.urls import reverse

from projects import services as project_services
from projects.audit import Actor
from projects.models import Status
from reporting import figures
from review import services as review_services
from tests.builders import (
    make_agency,
    make_agency_reviewer,
    make_city_user,
    make_design_enterprise_user,
    make_design_project,
)

pytestmark = pytest.mark.django_db


def test_a_row_per_agency_the_waiting_count_and_the_district_left_out(client, yuzhong, open_windows):
    designer = make_design_enterprise_user()
    enterprise = designer.membership.enterprise
    agency_reviewer = make_agency_reviewer(username="agency")
    other = make_agency(credit_code="91500103MC00000124", name="另一审查机构")

    def submitted(**kwargs):
        project = make_design_project(enterprise, designer, yuzhong, **kwargs)
        return project_services.submit_project(actor=Actor(user=designer), project=project)

    approved = review_services.approve(actor=Actor(user=agency_reviewer), project=submitted())
    waiting_for_agency = submitted()
    waiting_for_city = submitted(
        stage_data={
            "drawing_review": {
                "review_agency_credit_code": other.credit_code,
                "review_agency_name": "另一审查机构",
            }
        }
    )
    assert approved.status == Status.IN_NOTICE and waiting_for_city.awaits_routing

    rows, waiting = figures.agency_figures()

    assert waiting == 1
    [row] = rows  # the other agency has no records routed to it yet
    assert (row.name, row.received, row.under_review, row.in_notice, row.reviews) == (
        "重庆市施工图审查中心",
        2,
        1,
        1,
        1,
    )
    district = {r.code: r for r in figures.district_figures()}["500103"]
    assert district.received == 0  # the agency's, not the district's
    assert waiting_for_agency.reviewing_agency_id == row_agency_id(row)

    client.force_login(make_city_user(username="city-figures"))
    page = client.get(reverse("reporting:figures")).content.decode()
    assert "各施工图审查机构（设计项目）" in page and "重庆市施工图审查中心" in page
    assert 'id="awaiting-routing">1件' in page


def row_agency_id(row):
    from projects.models import Enterprise

    return Enterprise.objects.get(credit_code=row.credit_code).pk
