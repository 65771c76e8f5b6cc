"""Forged paths and query strings, for every role: a page, a redirect, a 400 or a 404, never a server error.

The NUL byte is the case that found real failures: PostgreSQL answers a text comparison with NUL by an error, so the
admin's list filters and any view reading a query parameter without a form failed with a 500 (run this file on
PostgreSQL to see it). backfill_portal.middleware.RefuseNulBytesMiddleware refuses it first, in Chinese."""

import re

import pytest
from django.test import Client

from projects import services as project_services
from projects.audit import Actor
from projects.models import CityDepartment
from tests.builders import make_city_user, make_enterprise_user, make_project, make_reviewer

pytestmark = pytest.mark.django_db

NUL_URLS = [
    "/admin/projects/project/?q=%00",
    "/admin/projects/project/?status__exact=%00",
    "/admin/projects/project/?submitted_at__gte=%00",
    "/admin/projects/project/%00/change/",
    "/admin/publicity/outboxmessage/?state__exact=%00",
    "/projects/?q=a%00b",
    "/projects/?status=%00",
    "/corrections/?q=%00",
    "/corrections/orders/?q=%00",
    "/city/spot-checks/work/?q=%00",
    "/city/integrity/blacklist/?credit_code=%00",
    "/blacklist/?credit_code=%00",
    "/notices/?q=%00",
    "/library/%00/",
    "/objections/%00/",
    "/objections/lookup/?reference=%00",
    "/inbox/?page=%00",
    "/notices/?%00=1",
]

OTHER_FORGED_URLS = [
    "/admin/projects/project/?submitted_at__gte=9999-99-99",
    "/admin/projects/project/?enterprise__id__exact=99999999999999999999999",
    "/admin/projects/project/?o=99",
    # str.isdigit() accepts a superscript two, int() refuses it; a number past the database's integer range.
    "/admin/projects/project/?enterprise=%C2%B2",
    "/admin/projects/project/?enterprise=99999999999999999999999",
    "/admin/projects/project/%C2%B2/objections/1/evidence/",
    "/admin/projects/project/99999999999999999999999/objections/1/evidence/",
    # The admin passes an empty _to_field on to _meta.get_field("") (found by tests/test_fuzz_parameters.py).
    "/admin/projects/project/1/change/?_to_field=",
    "/admin/auth/user/1/change/?_to_field=",
    "/admin/projects/project/99999999999999999999999/change/",
    "/admin/projects/project/abc/change/",
    "/projects/99999999999999999999999/",
    "/projects/1/stages/nonsense/",
    "/corrections/" + "A" * 300 + "/",
    "/corrections/GZ%2F..%2F/",
    "/corrections/orders/?overdue=1&page=-1",
    "/city/spot-checks/?page=99999999999999999999999",
    "/city/spot-checks/items/99999999999999999999999/",
    "/city/figures/?page=x",
    "/library/NP-x/v99999999999999999999999/",
    "/notices/?page=99999999999999999999999&authority=zzz&date_from=0001-01-01",
]

ROLES = ["anonymous", "enterprise", "reviewer", "city", "superuser"]


@pytest.fixture
def people(authorities, open_windows, django_user_model):
    clerk = make_enterprise_user(username="clerk")
    project = make_project(clerk.membership.enterprise, clerk, authorities["500103"], name="渝中区综合楼")
    project_services.submit_project(actor=Actor(user=clerk), project=project)
    return {
        "anonymous": None,
        "enterprise": clerk,
        "reviewer": make_reviewer(authorities["500103"], username="yz-reviewer"),
        "city": make_city_user(username="city", department=CityDepartment.APPROVAL_CENTER),
        "superuser": django_user_model.objects.create_superuser("root", "root@example.cn", "x"),
    }


def client_of(user) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", NUL_URLS)
def test_a_nul_byte_anywhere_in_the_address_is_refused_in_chinese(people, role, url):
    response = client_of(people[role]).get(url)

    assert response.status_code == 400
    assert response.content.decode() == "请求地址中含有非法字符（NUL），无法处理。"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", OTHER_FORGED_URLS)
def test_forged_ids_filters_and_pages_never_cause_a_server_error(people, role, url):
    response = client_of(people[role]).get(url)

    assert response.status_code in (200, 302, 400, 403, 404), response.status_code
    if response.status_code in (400, 403, 404) and response.get("Content-Type", "").startswith("text/html"):
        assert re.search(r"[\u4e00-\u9fff]", response.content.decode())
