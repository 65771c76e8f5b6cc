"""Who may open which page: every URL of projects/urls.py against every role, as one table.

Roles: an anonymous visitor; enterprise A, which owns the records; enterprise B, another enterprise; a reviewer of
the authority where the records lie (渝中区); a reviewer of another authority (大渡口区); a city commission user.

What the table says, in words:
- anonymous: the home page is the public front page (200); every other page sends to the login page, with ?next=
  the page asked for;
- enterprise B: A's records do not exist for it (404, never 403: an id guessed in the URL learns nothing), guessed
  evidence ids mixed across projects included; its own list is a 200;
- reviewers and the city: the enterprise pages are not theirs (403). They read a record's history and evidence
  only once it is submitted (selectors.visible_projects hides drafts), a reviewer only in its own authority;
- the POST-only views answer a GET with 405, for everyone.
"""

import hashlib
import re
from dataclasses import dataclass
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.models import model_to_dict
from django.urls import get_resolver, reverse

from projects import urls as project_urls
from projects.models import AuditEvent, Evidence, Notification, Project, RegistrationStage, Status
from projects.services import PROJECT_EDITABLE_FIELDS
from tests.builders import (
    PDF_BYTES,
    PNG_BYTES,
    make_city_user,
    make_enterprise_user,
    make_project,
    make_reviewer,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(authorities, open_windows):
    """A's clean draft and A's submitted record (渝中区), B's submitted record (渝中区), and a user per role."""
    yuzhong, dadukou = authorities["500103"], authorities["500104"]
    owner = make_enterprise_user(username="owner-a")
    other = make_enterprise_user(username="owner-b")
    draft = make_project(owner.membership.enterprise, owner, yuzhong, name="A的草稿项目")
    submitted = make_project(
        owner.membership.enterprise, owner, yuzhong, status=Status.SUBMITTED, name="A的已提交项目"
    )
    b_project = make_project(
        other.membership.enterprise, other, yuzhong, status=Status.SUBMITTED, name="B的已提交项目"
    )
    return SimpleNamespace(
        draft=draft,
        submitted=submitted,
        b_project=b_project,
        draft_evidence=draft.evidence.get(stage="registration"),
        submitted_evidence=submitted.evidence.get(stage="registration"),
        b_evidence=b_project.evidence.get(stage="registration"),
        users={
            "anonymous": None,
            "owner": owner,
            "other_enterprise": other,
            "reviewer": make_reviewer(yuzhong, username="reviewer-yuzhong"),
            "reviewer_elsewhere": make_reviewer(dadukou, username="reviewer-dadukou"),
            "city": make_city_user(username="city"),
        },
    )


# ---------------------------------------------------------------- the table

ROLES = ("anonymous", "owner", "other_enterprise", "reviewer", "reviewer_elsewhere", "city")


class _Login:
    """302 to /accounts/login/?next=<the URL asked for>."""

    def __repr__(self):
        return "LOGIN"


LOGIN = _Login()


@dataclass(frozen=True)
class To:
    """302 to this path; {pk}, {stage_code}… are the row's URL kwargs."""

    path: str


@dataclass(frozen=True)
class ToNew:
    """302 to the page of a record this request created (its id is not known in advance)."""

    pattern: str = r"/projects/\d+/"


# The URL kwargs of a row, built from the world (named functions: their names label the test ids).
def no_kwargs(w):
    return {}


def a_draft(w):
    return {"pk": w.draft.pk}


def a_submitted(w):
    return {"pk": w.submitted.pk}


def a_draft_stage(w):
    return {"pk": w.draft.pk, "stage_code": "registration"}


def a_draft_unknown_stage(w):
    return {"pk": w.draft.pk, "stage_code": "bogus"}


def a_draft_evidence(w):
    return {"pk": w.draft.pk, "evidence_id": w.draft_evidence.pk}


def a_submitted_evidence(w):
    return {"pk": w.submitted.pk, "evidence_id": w.submitted_evidence.pk}


def b_submitted(w):
    return {"pk": w.b_project.pk}


def b_evidence(w):
    return {"pk": w.b_project.pk, "evidence_id": w.b_evidence.pk}


def b_evidence_under_a_project(w):
    """B's own evidence id, guessed under A's (submitted) project id."""
    return {"pk": w.submitted.pk, "evidence_id": w.b_evidence.pk}


def a_evidence_under_b_project(w):
    """A's evidence id, guessed under B's (submitted) project id."""
    return {"pk": w.b_project.pk, "evidence_id": w.submitted_evidence.pk}


def _receipt_of(project):
    from projects import receipts
    from projects.models import Receipt, SubmissionVersion

    existing = Receipt.objects.filter(project=project).first()
    if existing:
        return existing
    version = SubmissionVersion.objects.create(
        project=project, number=1, submitted_by=project.created_by, content={}, evidence=[]
    )
    return receipts.issue(project=project, version=version, actor_user=project.created_by)


def a_receipt(w):
    return {"pk": w.submitted.pk, "receipt_id": _receipt_of(w.submitted).pk}


def b_receipt_under_a_project(w):
    """B's receipt id, guessed under A's project id."""
    return {"pk": w.submitted.pk, "receipt_id": _receipt_of(w.b_project).pk}


def a_receipt_token(w):
    return {"token": _receipt_of(w.submitted).token}


def row(url_name, kwargs_of, method, *cells):
    assert len(cells) == len(ROLES), url_name
    return (url_name, kwargs_of, method, dict(zip(ROLES, cells, strict=True)))


STAGE = "/projects/{pk}/stages/registration/#evidence"
# fmt: off
MATRIX = [
    # url name           kwargs                       method  anonymous              owner (A)                 enterprise B              reviewer         reviewer elsewhere  city
    row("projects:home",              no_kwargs,                  "GET",  200,                    To("/projects/"),         To("/projects/"),         To("/review/queue/"), To("/review/queue/"), To("/review/queue/")),
    row("projects:project_list",      no_kwargs,                  "GET",  LOGIN,                  200,                      200,                      403,             403,                403),
    row("projects:project_create",    no_kwargs,                  "GET",  LOGIN,                  200,                      200,                      403,             403,                403),
    row("projects:project_create",    no_kwargs,                  "POST", LOGIN,                  ToNew(),                  ToNew(),                  403,             403,                403),
    row("projects:project_selected",  no_kwargs,                  "POST", LOGIN,                  200,                      200,                      403,             403,                403),
    row("projects:project_selected",  no_kwargs,                  "GET",  405,                    405,                      405,                      405,             405,                405),
    row("projects:project_detail",    a_draft,                    "GET",  LOGIN,                  200,                      404,                      403,             403,                403),
    row("projects:project_detail",    a_submitted,                "GET",  LOGIN,                  200,                      404,                      403,             403,                403),
    row("projects:project_detail",    b_submitted,                "GET",  LOGIN,                  404,                      200,                      403,             403,                403),
    row("projects:project_edit",      a_draft,                    "GET",  LOGIN,                  200,                      404,                      403,             403,                403),
    row("projects:project_edit",      a_draft,                    "POST", LOGIN,                  To("/projects/{pk}/"),    404,                      403,             403,                403),
    row("projects:project_edit",      a_submitted,                "POST", LOGIN,                  To("/projects/{pk}/"),    404,                      403,             403,                403),
    row("projects:self_check",        a_draft,                    "GET",  LOGIN,                  200,                      404,                      403,             403,                403),
    row("projects:self_check",        a_submitted,                "GET",  LOGIN,                  200,                      404,                      403,             403,                403),
    row("projects:self_check",        b_submitted,                "GET",  LOGIN,                  404,                      200,                      403,             403,                403),
    row("projects:stage_edit",        a_draft_stage,              "GET",  LOGIN,                  200,                      404,                      403,             403,                403),
    row("projects:stage_edit",        a_draft_stage,              "POST", LOGIN,                  To("/projects/{pk}/stages/{stage_code}/"), 404,   403,             403,                403),
    row("projects:stage_edit",        a_draft_unknown_stage,      "GET",  LOGIN,                  404,                      404,                      403,             403,                403),
    row("projects:project_submit",    a_draft,                    "POST", LOGIN,                  To("/projects/{pk}/"),    404,                      403,             403,                403),
    row("projects:project_submit",    a_draft,                    "GET",  405,                    405,                      405,                      405,             405,                405),
    row("projects:project_withdraw",  a_submitted,                "POST", LOGIN,                  To("/projects/{pk}/"),    404,                      403,             403,                403),
    row("projects:project_withdraw",  a_submitted,                "GET",  405,                    405,                      405,                      405,             405,                405),
    row("projects:project_history",   a_draft,                    "GET",  LOGIN,                  200,                      404,                      404,             404,                404),
    row("projects:project_history",   a_submitted,                "GET",  LOGIN,                  200,                      404,                      200,             404,                200),
    row("projects:project_history",   b_submitted,                "GET",  LOGIN,                  404,                      200,                      200,             404,                200),
    row("projects:receipt_pdf",       a_receipt,                  "GET",  LOGIN,                  200,                      404,                      403,             403,                403),
    row("projects:receipt_pdf",       b_receipt_under_a_project,  "GET",  LOGIN,                  404,                      404,                      403,             403,                403),
    row("projects:receipt_verify",    a_receipt_token,            "GET",  200,                    200,                      200,                      200,             200,                200),
    row("projects:inbox",             no_kwargs,                  "GET",  LOGIN,                  200,                      200,                      200,             200,                200),
    row("projects:inbox_mark_read",   no_kwargs,                  "POST", LOGIN,                  To("/inbox/"),            To("/inbox/"),            To("/inbox/"),   To("/inbox/"),      To("/inbox/")),
    row("projects:inbox_mark_read",   no_kwargs,                  "GET",  405,                    405,                      405,                      405,             405,                405),
    row("projects:evidence_upload",   a_draft_stage,              "POST", LOGIN,                  To(STAGE),                404,                      403,             403,                403),
    row("projects:evidence_upload",   a_draft_stage,              "GET",  405,                    405,                      405,                      405,             405,                405),
    row("projects:evidence_view",     a_draft_evidence,           "GET",  LOGIN,                  200,                      404,                      404,             404,                404),
    row("projects:evidence_view",     a_submitted_evidence,       "GET",  LOGIN,                  200,                      404,                      200,             404,                200),
    row("projects:evidence_view",     b_evidence,                 "GET",  LOGIN,                  404,                      200,                      200,             404,                200),
    row("projects:evidence_view",     b_evidence_under_a_project, "GET",  LOGIN,                  404,                      404,                      404,             404,                404),
    row("projects:evidence_view",     a_evidence_under_b_project, "GET",  LOGIN,                  404,                      404,                      404,             404,                404),
    row("projects:evidence_archive",  a_draft_evidence,           "POST", LOGIN,                  To(STAGE),                404,                      403,             403,                403),
    row("projects:evidence_archive",  a_evidence_under_b_project, "POST", LOGIN,                  404,                      404,                      403,             403,                403),
    row("projects:evidence_archive",  a_draft_evidence,           "GET",  405,                    405,                      405,                      405,             405,                405),
]
# fmt: on


def post_data(url_name, w, kwargs=None):
    """What a form of that page would post: a valid one, so the owner's cell shows the success redirect."""
    if url_name == "projects:project_create":
        return {
            "authority": w.draft.authority_id,
            "county_code": "500103",
            "name": "新建的补录项目",
            "address": "重庆市渝中区民族路2号",
            "project_type": "building_general",
            "is_completed": "True",
            "is_classified": "False",
            "already_in_national_library": "False",
            "start_basis": "permit",
        }
    if url_name == "projects:project_edit":
        project = Project.objects.get(pk=(kwargs or {}).get("pk", w.draft.pk))
        return {**model_to_dict(project, fields=PROJECT_EDITABLE_FIELDS), "address": "重庆市渝中区民族路3号"}
    if url_name == "projects:stage_edit":
        values = model_to_dict(w.draft.registration, exclude=["id", "project", "updated_by", "updated_at"])
        return {name: value for name, value in values.items() if value is not None}
    if url_name == "projects:evidence_upload":
        return {
            "file": SimpleUploadedFile("立项批文.pdf", PDF_BYTES, "application/pdf"),
            "description": "补充",
        }
    if url_name == "projects:evidence_archive":
        return {"reason": "重复上传"}
    if url_name == "projects:project_selected":
        return {"action": "check", "selected": [w.draft.pk, w.submitted.pk]}
    return {}


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
    kwargs = kwargs_of(world)
    url = reverse(url_name, kwargs=kwargs)

    if method == "POST":
        response = client.post(url, post_data(url_name, world, kwargs))
    else:
        response = client.get(url)
    if response.streaming:
        # Read to the end, as a server would: the test client then closes the evidence file. (Not
        # response.close(): that fires request_finished, which on PostgreSQL closes the test's connection.)
        b"".join(response.streaming_content)

    want = expected[role]
    if want is LOGIN:
        assert response.status_code == 302
        location = urlsplit(response["Location"])
        assert location.path == "/accounts/login/"
        assert parse_qs(location.query) == {"next": [url]}
    elif isinstance(want, To):
        assert response.status_code == 302
        assert response["Location"] == want.path.format(**kwargs)
    elif isinstance(want, ToNew):
        assert response.status_code == 302
        assert re.fullmatch(want.pattern, response["Location"]), response["Location"]
        created = Project.objects.get(pk=response["Location"].split("/")[2])
        assert created.enterprise == user.membership.enterprise  # created for the poster's own enterprise
    else:
        assert response.status_code == want


def test_it_has_a_row_for_every_url_of_the_enterprise_pages():
    names = {f"projects:{pattern.name}" for pattern in project_urls.urlpatterns}
    assert names == {url_name for url_name, *_ in MATRIX}
    # and those are the names the site resolves, in the projects namespace
    _prefix, resolver = get_resolver().namespace_dict["projects"]
    for name in names:
        assert resolver.reverse_dict.getlist(name.removeprefix("projects:")), name


# ---------------------------------------------------------------- enterprise B changes nothing


def _state(w):
    return {
        "events": AuditEvent.objects.exclude(action__endswith=".refused").count(),
        "statuses": dict(Project.objects.values_list("pk", "status")),
        "evidence": list(Evidence.objects.order_by("pk").values_list("pk", "archived_at", "archive_reason")),
        "registration": list(RegistrationStage.objects.order_by("pk").values()),
    }


def the_draft(w):
    return ("project", w.draft.pk)


def the_submitted(w):
    return ("project", w.submitted.pk)


def the_submitted_evidence(w):
    return ("evidence", w.submitted_evidence.pk)


@pytest.mark.parametrize(
    "url_name, kwargs_of, action, asked",
    [
        ("projects:project_submit", a_draft, "project.submit", the_draft),
        ("projects:project_withdraw", a_submitted, "project.withdraw", the_submitted),
        ("projects:stage_edit", a_draft_stage, "stage.save", the_draft),
        ("projects:evidence_upload", a_draft_stage, "evidence.add", the_draft),
        ("projects:evidence_archive", a_draft_evidence, "evidence.archive", the_draft),
        ("projects:evidence_archive", a_evidence_under_b_project, "evidence.archive", the_submitted_evidence),
        ("projects:project_edit", a_draft, "project.update", the_draft),
    ],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_it_changes_nothing_when_another_enterprise_posts_to_a_record(
    client, world, url_name, kwargs_of, action, asked
):
    before = _state(world)
    refusals_before = AuditEvent.objects.filter(action__endswith=".refused").count()
    client.force_login(world.users["other_enterprise"])
    data = post_data(url_name, world)
    if url_name == "projects:stage_edit":
        data["scale"] = "B改的"
    if url_name == "projects:project_edit":
        data = {"name": "B改的名称"}

    response = client.post(reverse(url_name, kwargs=kwargs_of(world)), data)

    assert response.status_code == 404
    assert _state(world) == before  # no status change, no evidence, no stage change, no other event
    world.draft.refresh_from_db()
    assert world.draft.name == "A的草稿项目"
    # the trail says who asked for what: B's user, the id asked for, not linked to A's history
    assert AuditEvent.objects.filter(action__endswith=".refused").count() == refusals_before + 1
    event = AuditEvent.objects.latest("id")
    assert event.actor == world.users["other_enterprise"]
    assert event.organisation == world.users["other_enterprise"].membership.enterprise.name
    assert event.action == f"{action}.refused"
    assert (event.object_type, event.object_id) == (asked(world)[0], str(asked(world)[1]))
    assert event.project is None
    assert event.message in ("该补录项目不存在或不属于本单位。", "该证明材料不存在或不属于本单位。")


@pytest.mark.parametrize(
    "role, kwargs_of",
    [
        ("other_enterprise", a_submitted_evidence),
        ("reviewer_elsewhere", a_submitted_evidence),
        ("reviewer", a_draft_evidence),
    ],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_it_records_who_asked_for_an_evidence_file_it_may_not_see_and_still_answers_404(
    client, world, role, kwargs_of
):
    client.force_login(world.users[role])
    kwargs = kwargs_of(world)

    response = client.get(reverse("projects:evidence_view", kwargs=kwargs))

    assert response.status_code == 404
    event = AuditEvent.objects.latest("id")
    assert (event.actor, event.action) == (world.users[role], "evidence.view.refused")
    assert (event.object_type, event.object_id) == ("evidence", str(kwargs["evidence_id"]))
    assert event.message == "该证明材料不存在或不属于本单位。"


def test_it_records_who_asked_for_a_history_it_may_not_see_and_still_answers_404(client, world):
    client.force_login(world.users["reviewer_elsewhere"])

    response = client.get(reverse("projects:project_history", kwargs=a_submitted(world)))

    assert response.status_code == 404
    event = AuditEvent.objects.latest("id")
    assert (event.actor, event.action) == (world.users["reviewer_elsewhere"], "project.history.refused")
    assert (event.object_type, event.object_id, event.project) == ("project", str(world.submitted.pk), None)


def test_it_records_an_unknown_stage_asked_for_and_still_answers_404(client, world):
    client.force_login(world.users["owner"])

    response = client.get(reverse("projects:stage_edit", kwargs=a_draft_unknown_stage(world)))

    assert response.status_code == 404
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.object_id, event.message) == (
        "stage.save.refused",
        str(world.draft.pk),
        "没有这个环节。（bogus）",
    )


# ---------------------------------------------------------------- how evidence is served


def test_it_serves_evidence_with_the_sniffed_type_and_private_headers(client, world):
    """A PNG uploaded as "scan.pdf" with a PDF content type is stored, and served, as what it is: image/png,
    downloaded as "scan.png"."""
    owner = world.users["owner"]
    client.force_login(owner)
    upload = SimpleUploadedFile("scan.pdf", PNG_BYTES, content_type="application/pdf")
    client.post(reverse("projects:evidence_upload", kwargs=a_draft_stage(world)), {"file": upload})
    evidence = Evidence.objects.get(project=world.draft, original_name="scan.pdf")
    assert evidence.content_type == "image/png"

    response = client.get(
        reverse("projects:evidence_view", kwargs={"pk": world.draft.pk, "evidence_id": evidence.pk})
    )
    body = b"".join(response.streaming_content)  # read to the end: the client closes the file

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Disposition"] == "inline; filename*=UTF-8''scan.png"
    assert "sandbox" in response["Content-Security-Policy"]
    assert body == PNG_BYTES
    assert hashlib.sha256(body).hexdigest() == evidence.sha256


def test_it_serves_a_pdf_to_the_reviewer_once_submitted_with_the_same_headers(client, world):
    client.force_login(world.users["reviewer"])
    response = client.get(reverse("projects:evidence_view", kwargs=a_submitted_evidence(world)))
    body = b"".join(response.streaming_content)  # read to the end: the client closes the file

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert body == PDF_BYTES


# ---------------------------------------------------------------- the inbox is each user's own


def test_it_shows_and_marks_read_only_the_users_own_notifications(client, world):
    owner, other = world.users["owner"], world.users["other_enterprise"]
    mine = Notification.objects.create(recipient=owner, project=world.draft, title="A的通知", body="只给A")
    theirs = Notification.objects.create(
        recipient=other, project=world.b_project, title="B的通知", body="只给B"
    )

    client.force_login(other)
    body = client.get(reverse("projects:inbox")).content.decode()
    assert "B的通知" in body and "A的通知" not in body and world.draft.project_number not in body

    assert client.post(reverse("projects:inbox_mark_read")).status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert theirs.read_at is not None
    assert mine.read_at is None  # A's stays unread
