"""Who may open review's own pages (review/urls.py), as one table of URL × role; every URL of the module has a row."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from projects.models import Status
from review import urls as review_urls

from .builders import make_city_user, make_project

LOGIN = "login"
QUEUE, REVIEW_PAGE = "→queue", "→review page"
ROLES = ["anonymous", "clerk", "reviewer", "other_reviewer", "city", "superuser"]

# A submitted record of 渝中区 (the reviewer's authority), not yet assigned, for the take button.
# fmt: off
MATRIX = [
    # url name        method  anonymous  clerk  reviewer      other_reviewer  city   superuser
    ("reuse_list",    "GET",  LOGIN,     403,   403,          403,            200,   200),
    ("national_answers", "GET", LOGIN,   403,   200,          200,            200,   200),
    ("queue",         "GET",  LOGIN,     403,   200,          200,            200,   200),
    ("take",          "POST", LOGIN,     403,   REVIEW_PAGE,  QUEUE,          403,   403),
    ("take",          "GET",  405,       405,   405,          405,            405,   405),
]
# fmt: on
NEEDS_RECORD = {"take"}


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
    url = reverse(f"review:{url_name}", args=[record.pk] if url_name in NEEDS_RECORD else [])

    response = client.post(url) if method == "POST" else client.get(url)

    want = expected[ROLES.index(role)]
    if want == LOGIN:
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), response
    elif want == QUEUE:
        assert (response.status_code, response["Location"]) == (302, reverse("review:queue"))
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
