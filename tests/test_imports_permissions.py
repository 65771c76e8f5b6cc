"""Who may open which import page: every URL of imports/urls.py against every role, as one table (the same roles
as tests/test_permissions.py). Another enterprise's job does not exist (404); reviewers and the city are refused
(403); every refusal is in the audit trail."""

from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from imports import services
from imports import urls as import_urls
from imports.models import ImportJob
from projects.audit import Actor
from projects.models import AuditEvent
from tests.builders import make_city_user, make_enterprise_user, make_reviewer
from tests.import_builders import fill, project_row

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "owner", "other_enterprise", "reviewer", "city")
LOGIN = "LOGIN"
NEW_JOB = "NEW_JOB"


@pytest.fixture
def world(authorities, open_windows):
    owner = make_enterprise_user(username="import-owner")
    row = project_row(owner.membership.enterprise)
    row[("contract", "amount")] = "abc"  # one refused row: the job has an annotated copy
    job = services.start_import(actor=Actor(user=owner), workbook=SimpleUploadedFile("a.xlsx", fill([row])))
    job = services.run_job(job.pk)
    assert job.annotated
    return SimpleNamespace(
        job=job,
        users={
            "anonymous": None,
            "owner": owner,
            "other_enterprise": make_enterprise_user(username="import-other"),
            "reviewer": make_reviewer(authorities["500103"], username="import-reviewer"),
            "city": make_city_user(username="import-city"),
        },
    )


def no_kwargs(w):
    return {}


def a_job(w):
    return {"pk": w.job.pk}


def row(url_name, kwargs_of, method, *cells):
    return (url_name, kwargs_of, method, dict(zip(ROLES, cells, strict=True)))


# fmt: off
MATRIX = [
    # url name         kwargs     method  anonymous owner    enterprise B reviewer city
    row("home",          no_kwargs, "GET",  LOGIN,    200,     200,         403,     403),
    row("home",          no_kwargs, "POST", LOGIN,    NEW_JOB, NEW_JOB,     403,     403),
    row("template",      no_kwargs, "GET",  LOGIN,    200,     200,         403,     403),
    row("export",        no_kwargs, "GET",  LOGIN,    200,     200,         403,     403),
    row("job",           a_job,     "GET",  LOGIN,    200,     404,         403,     403),
    row("job_status",    a_job,     "GET",  LOGIN,    200,     404,         403,     403),
    row("job_annotated", a_job,     "GET",  LOGIN,    200,     404,         403,     403),
]
# fmt: on


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "url_name, kwargs_of, method, expected",
    MATRIX,
    ids=[f"{method}-{name}-{kwargs_of.__name__}" for name, kwargs_of, method, _ in MATRIX],
)
def test_it_answers_each_role_as_the_matrix_says(client, world, url_name, kwargs_of, method, expected, role):
    user = world.users[role]
    if user is not None:
        client.force_login(user)
    url = reverse(f"imports:{url_name}", kwargs=kwargs_of(world))
    refusals_before = AuditEvent.objects.filter(action__endswith=".refused").count()
    if method == "POST":
        response = client.post(url, {"workbook": SimpleUploadedFile("b.xlsx", fill([]))})
    else:
        response = client.get(url)
    want = expected[role]
    if want == LOGIN:
        assert response.status_code == 302
        location = urlsplit(response["Location"])
        assert location.path == "/accounts/login/" and parse_qs(location.query) == {"next": [url]}
    elif want == NEW_JOB:
        assert response.status_code == 302
        job = ImportJob.objects.latest("id")
        assert response["Location"] == reverse("imports:job", kwargs={"pk": job.pk})
        assert job.enterprise == user.membership.enterprise
    else:
        assert response.status_code == want
    if want in (403, 404):
        assert AuditEvent.objects.filter(action__endswith=".refused").count() == refusals_before + 1


def test_it_has_a_row_for_every_url_of_the_import_pages():
    assert {p.name for p in import_urls.urlpatterns} == {name for name, *_ in MATRIX}
