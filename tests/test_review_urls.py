"""Who may open review's own pages (review/urls.py), as one table of URL × role; every URL of the module has a row."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from projects.models import Status
from review import urls as review_urls

from .builders import (
    make_agency,
    make_agency_reviewer,
    make_city_user,
    make_design_enterprise_user,
    make_design_project,
    make_project,
)

LOGIN = "login"
QUEUE, REVIEW_PAGE, ROUTING = "→queue", "→review page", "→routing"
ROLES = ["anonymous", "clerk", "reviewer", "other_reviewer", "city", "superuser", "agency_reviewer"]

# A submitted record of 渝中区 (the reviewer's authority), not yet assigned, for the take button.
# A design record of 渝中区 waiting in the city's queue (its agency has no account), for the routing.
# fmt: off
MATRIX = [
    # url name                method  anonymous  clerk  reviewer      other_reviewer  city     superuser  agency_reviewer
    ("reuse_list",            "GET",  LOGIN,     403,   403,          403,            200,     200,       403),
    ("national_answers",      "GET",  LOGIN,     403,   200,          200,            200,     200,       200),
    ("queue",                 "GET",  LOGIN,     403,   200,          200,            200,     200,       200),
    ("take",                  "POST", LOGIN,     403,   REVIEW_PAGE,  QUEUE,          403,     403,       QUEUE),
    ("take",                  "GET",  405,       405,   405,          405,            405,     405,       405),
    ("design_routing",        "GET",  LOGIN,     403,   403,          403,            200,     200,       403),
    ("route_design_project",  "POST", LOGIN,     403,   403,          403,            ROUTING, ROUTING,   403),
    ("route_design_project",  "GET",  405,       405,   405,          405,            405,     405,       405),
]
# fmt: on
NEEDS_RECORD = {"take"}
NEEDS_DESIGN_RECORD = {"route_design_project"}


@pytest.fixture
def users(clerk, reviewer, other_reviewer, db):
    superuser = get_user_model().objects.create_superuser("root", "root@example.com", "x")
    return {
        "anonymous": None,
        "clerk": clerk,
        "reviewer": reviewer,
        "other_reviewer": other_reviewer,
        "city": make_city_user(username="city-matrix"),
        "superuser": superuser,
        # of another agency than the one design records name: that one has no account here
        "agency_reviewer": make_agency_reviewer(
            make_agency(credit_code="91500103MC00000124", name="另一审查机构"), username="agency-matrix"
        ),
    }


@pytest.mark.parametrize(
    "url_name, method, expected",
    [(name, method, cells) for name, method, *cells in MATRIX],
    ids=[f"{method}-{name}" for name, method, *_ in MATRIX],
)
@pytest.mark.parametrize("role", ROLES)
def test_it_answers_each_role_as_the_matrix_says(
    client, users, clerk, yuzhong, role, url_name, method, expected
):
    user = users[role]
    if user is not None:
        client.force_login(user)
    record = make_project(
        clerk.membership.enterprise, clerk, yuzhong, status=Status.SUBMITTED, evidence=False
    )
    if url_name in NEEDS_DESIGN_RECORD:
        designer = make_design_enterprise_user()
        record = make_design_project(
            designer.membership.enterprise, designer, yuzhong, status=Status.SUBMITTED, evidence=False
        )
    args = [record.pk] if url_name in NEEDS_RECORD | NEEDS_DESIGN_RECORD else []
    url = reverse(f"review:{url_name}", args=args)

    response = client.post(url, {"target": "district"}) if method == "POST" else client.get(url)

    want = expected[ROLES.index(role)]
    if want == LOGIN:
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), response
    elif want == QUEUE:
        assert (response.status_code, response["Location"]) == (302, reverse("review:queue"))
    elif want == ROUTING:
        assert (response.status_code, response["Location"]) == (302, reverse("review:design_routing"))
        record.refresh_from_db()
        assert record.routed_to_district
    elif want == REVIEW_PAGE:
        assert (response.status_code, response["Location"]) == (
            302,
            reverse("admin:projects_project_change", args=[record.pk]),
        )
    else:
        assert response.status_code == want, (role, response.status_code)


def test_every_url_of_review_has_a_row():
    names = {pattern.name for pattern in review_urls.urlpatterns}
    assert names == {name for name, *_ in MATRIX}
    assert all(method in {"GET", "POST"} for _name, method, *_ in MATRIX)


# The queue's tabs by role (?tab= of review:queue): which kinds of work each role's queue holds. A city user of
# a department (tests/test_queue_city.py) also has 抽查待核查; the approval service center also 更正待处理.
# fmt: off
QUEUE_TABS = {
    "anonymous":      LOGIN,
    "clerk":          403,
    "reviewer":       ["todo", "notice", "objected", "failed", "corrections"],
    "other_reviewer": ["todo", "notice", "objected", "failed", "corrections"],
    "city":           ["failed"],
    "superuser":      ["corrections", "spot_checks", "failed"],
    "agency_reviewer": ["todo", "notice", "objected", "failed", "corrections"],  # its design records' corrections
}
# fmt: on


@pytest.mark.parametrize("tab", ["todo", "corrections", "spot_checks", "failed", "nonsense"])
@pytest.mark.parametrize("role", ROLES)
def test_each_role_has_the_queue_tabs_the_table_says(client, users, role, tab):
    user = users[role]
    if user is not None:
        client.force_login(user)

    response = client.get(reverse("review:queue"), {"tab": tab})

    want = QUEUE_TABS[role]
    if want == LOGIN:
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    elif want == 403:
        assert response.status_code == 403
    else:
        assert response.status_code == 200
        assert [key for key, _label, _count in response.context["tabs"]] == want
        assert response.context["tab"] == (tab if tab in want else want[0])
