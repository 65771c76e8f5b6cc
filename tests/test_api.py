"""The open API (docs/api.md): who may call which endpoint, as one table; personal tokens through their life; the
error shape; the limits on bodies; the throttles.

Roles as in tests/test_permissions.py: anonymous; enterprise A, which owns the records; enterprise B; a reviewer of
the records' authority (渝中区); a reviewer of another authority (大渡口区); a city user; a survey/design enterprise,
which owns the design records (docs/design-projects.md); a reviewer of the drawing-review agency they name. Each
calls with a personal token of its own (anonymous with none). What the table says, in words:
- anonymous: 401 on every endpoint behind a login, the public ones answer (200);
- enterprise B: A's records do not exist for it (404, never 403), by every endpoint, and nothing changes;
- reviewers and the city: the enterprise's endpoints are not theirs (403); a reviewer reads and decides only its own
  authority's submitted records (another's is a 404);
- the enterprise on a decision: its own record is visible to it, the service refuses (403); B's is a 404;
- each enterprise starts only its own kind of record (403 from the service, audited); a design record's stages are
  its three (the permit stage is a 404); the agency reads and decides its design records, the district reads them
  and may not decide (403), another district's reviewer finds nothing (404).
"""

import datetime
import json
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from api import tokens
from api import urls as api_urls
from api.models import ApiToken
from projects.audit import Actor
from projects.models import AuditEvent, Evidence, Project, RegistrationStage, Status
from review import services as review_services
from tests.builders import (
    DESIGNER_ID,
    PDF_BYTES,
    UserFactory,
    enter_library,
    make_agency_reviewer,
    make_city_user,
    make_design_enterprise_user,
    make_design_project,
    make_enterprise_user,
    make_project,
    make_reviewer,
)

pytestmark = pytest.mark.django_db

ROLES = (
    "anonymous",
    "owner",
    "other_enterprise",
    "reviewer",
    "reviewer_elsewhere",
    "city",
    "designer",
    "agency",
)


@pytest.fixture
def world(authorities, open_windows):
    yuzhong, dadukou = authorities["500103"], authorities["500104"]
    owner = make_enterprise_user(username="owner-a")
    other = make_enterprise_user(username="owner-b")
    a = owner.membership.enterprise
    draft = make_project(a, owner, yuzhong, name="A的草稿项目")
    submitted = make_project(a, owner, yuzhong, status=Status.SUBMITTED, name="A的已提交项目")
    library = enter_library(make_project(a, owner, yuzhong, status=Status.SUBMITTED, name="A的入库项目"))
    b_project = make_project(
        other.membership.enterprise, other, yuzhong, status=Status.SUBMITTED, name="B的已提交项目"
    )
    b_draft = make_project(other.membership.enterprise, other, yuzhong, name="B的草稿项目")
    reviewer = make_reviewer(yuzhong, username="reviewer-yuzhong")
    designer = make_design_enterprise_user(username="designer")
    agency = make_agency_reviewer(username="agency-reviewer")
    d = designer.membership.enterprise
    d_draft = make_design_project(d, designer, yuzhong, name="设计草稿项目")
    d_submitted = make_design_project(
        d,
        designer,
        yuzhong,
        status=Status.SUBMITTED,
        reviewing_agency=agency.membership.enterprise,
        name="设计已提交项目",
    )
    d_library = enter_library(
        make_design_project(
            d,
            designer,
            yuzhong,
            status=Status.SUBMITTED,
            reviewing_agency=agency.membership.enterprise,
            name="设计入库项目",
            evidence=False,
        )
    )
    noticed = review_services.approve(
        actor=Actor(user=reviewer),
        project=make_project(a, owner, yuzhong, status=Status.SUBMITTED, name="A的公示项目"),
    )
    users = {
        "anonymous": None,
        "owner": owner,
        "other_enterprise": other,
        "reviewer": reviewer,
        "reviewer_elsewhere": make_reviewer(dadukou, username="reviewer-dadukou"),
        "city": make_city_user(username="city"),
        "designer": designer,
        "agency": agency,
    }
    keys = {
        role: tokens.create_token(actor=Actor(user=user), name="测试", days=30)[1]
        for role, user in users.items()
        if user is not None
    }
    return SimpleNamespace(
        yuzhong=yuzhong,
        draft=draft,
        submitted=submitted,
        library=library,
        b_project=b_project,
        b_draft=b_draft,
        noticed=noticed,
        d_draft=d_draft,
        d_submitted=d_submitted,
        d_library=d_library,
        users=users,
        keys=keys,
    )


def client_for(world, role) -> APIClient:
    client = APIClient()
    if role != "anonymous":
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {world.keys[role]}")
    return client


# ---------------------------------------------------------------- bodies the owner's cell needs to succeed


def pdf(name="证明.pdf"):
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def new_project(w):
    return {
        "name": "接口新建的项目",
        "authority": w.yuzhong.pk,
        "address": "重庆市渝中区民族路2号",
        "project_type": "building_general",
        "is_completed": True,
        "is_classified": False,
        "already_in_national_library": False,
        "start_basis": "permit",
        "kind": "construction",  # a survey/design enterprise asking for it is refused
    }


def new_design_project(w):
    return {
        "kind": "design",  # a construction enterprise asking for it is refused
        "name": "接口新建的设计项目",
        "authority": w.yuzhong.pk,
        "address": "重庆市渝中区民族路5号",
        "project_type": "building_works",
        "is_classified": False,
        "already_in_national_library": False,
    }


def designers_change(w):
    designer = {
        "name": "王设计",
        "id_type": "身份证",
        "id_number": DESIGNER_ID,
        "registration_type": "注册建筑师",
        "registration_level": "一级",
        "role": "项目负责人",
    }
    return {"designers": [designer]}


def cover_sheet_upload(w):
    return {"file": pdf("图签页.pdf"), "description": "图签页", "part": "cover_sheet"}


def design_correction(w):
    items = [{"stage": "", "field": "name", "proposed_value": "设计入库项目（更正）", "reason": "以合同为准"}]
    return {
        "statement": "项目名称有误。",
        "items": json.dumps(items, ensure_ascii=False),
        "evidence": [pdf()],
    }


def design_return_comments(w):
    return {"comments": [{"stage": "drawing_review", "field": "designers", "text": "请补充结构专业负责人"}]}


def rename(w):
    return {"address": "重庆市渝中区民族路3号"}


def stage_change(w):
    return {"function": "办公及商业"}


def evidence_upload(w):
    return {"file": pdf(), "description": "补充"}


def correction(w):
    items = [
        {"stage": "", "field": "name", "proposed_value": "A的入库项目（更正）", "reason": "以立项批复为准"}
    ]
    return {
        "statement": "项目名称录入有误。",
        "items": json.dumps(items, ensure_ascii=False),
        "evidence": [pdf()],
    }


def nothing(w):
    return {}


def approval(w):
    return {"comment": "材料齐全"}


def return_comments(w):
    return {"comments": [{"stage": "permit", "field": "permit_number", "text": "编号与原件不符"}]}


def rejection(w):
    return {"ground": "out_of_scope", "reason": "不在补录范围"}


# The URL kwargs of a row (named functions: their names label the test ids).
def no_kwargs(w):
    return {}


def a_draft(w):
    return {"pk": w.draft.pk}


def a_submitted(w):
    return {"pk": w.submitted.pk}


def a_library(w):
    return {"pk": w.library.pk}


def a_draft_stage(w):
    return {"pk": w.draft.pk, "stage_code": "registration"}


def d_draft(w):
    return {"pk": w.d_draft.pk}


def d_submitted(w):
    return {"pk": w.d_submitted.pk}


def d_library(w):
    return {"pk": w.d_library.pk}


def d_review_stage(w):
    return {"pk": w.d_draft.pk, "stage_code": "drawing_review"}


def d_permit_stage(w):
    return {"pk": w.d_draft.pk, "stage_code": "permit"}


def a_notice(w):
    from publicity.models import Notice

    return {"notice_id": Notice.objects.get(project=w.noticed).pk}


def a_national_id(w):
    return {"national_id": w.library.library_entry.national_id}


def a_version(w):
    return {"national_id": w.library.library_entry.national_id, "version": 1}


def a_credit_code(w):
    return {"credit_code": w.users["owner"].membership.enterprise.credit_code}


MULTIPART = {"api:evidence", "api:correction_create"}

ALL_200 = dict.fromkeys(ROLES, 200)
E = 403  # an enterprise endpoint to a reviewer or the city


def row(name, kwargs_of, method, body, *cells):
    return (name, kwargs_of, method, body, dict(zip(ROLES, cells, strict=True)))


# fmt: off
MATRIX = [
    #   url name                  kwargs          method   body                    anon owner other rev  rev-else city designer agency  # noqa: E501
    row("api:notices",            no_kwargs,      "get",   None,                   200, 200,  200,  200, 200,     200, 200,     200),
    row("api:notice",             a_notice,       "get",   None,                   200, 200,  200,  200, 200,     200, 200,     200),
    row("api:library",            no_kwargs,      "get",   None,                   200, 200,  200,  200, 200,     200, 200,     200),
    row("api:library_entry",      a_national_id,  "get",   None,                   200, 200,  200,  200, 200,     200, 200,     200),
    row("api:library_version",    a_version,      "get",   None,                   200, 200,  200,  200, 200,     200, 200,     200),
    row("api:performance",        a_credit_code,  "get",   None,                   200, 200,  200,  200, 200,     200, 200,     200),
    row("api:blacklist",          a_credit_code,  "get",   None,                   200, 200,  200,  200, 200,     200, 200,     200),
    row("api:projects",           no_kwargs,      "get",   None,                   401, 200,  200,  E,   E,       E,   200,     E),
    row("api:projects",           no_kwargs,      "post",  new_project,            401, 201,  201,  E,   E,       E,   403,     E),
    row("api:projects",           no_kwargs,      "post",  new_design_project,     401, 403,  403,  E,   E,       E,   201,     E),
    row("api:project",            a_draft,        "get",   None,                   401, 200,  404,  E,   E,       E,   404,     E),
    row("api:project",            d_draft,        "get",   None,                   401, 404,  404,  E,   E,       E,   200,     E),
    row("api:project",            a_draft,        "patch", rename,                 401, 200,  404,  E,   E,       E,   404,     E),
    row("api:project",            d_draft,        "patch", rename,                 401, 404,  404,  E,   E,       E,   200,     E),
    row("api:stage",              a_draft_stage,  "get",   None,                   401, 200,  404,  E,   E,       E,   404,     E),
    row("api:stage",              d_permit_stage, "get",   None,                   401, 404,  404,  E,   E,       E,   404,     E),
    row("api:stage",              a_draft_stage,  "put",   stage_change,           401, 200,  404,  E,   E,       E,   404,     E),
    row("api:stage",              d_review_stage, "put",   designers_change,       401, 404,  404,  E,   E,       E,   200,     E),
    row("api:stage",              a_draft_stage,  "patch", stage_change,           401, 200,  404,  E,   E,       E,   404,     E),
    row("api:evidence",           a_draft_stage,  "post",  evidence_upload,        401, 201,  404,  E,   E,       E,   404,     E),
    row("api:evidence",           d_review_stage, "post",  cover_sheet_upload,     401, 404,  404,  E,   E,       E,   201,     E),
    row("api:self_check",         a_draft,        "get",   None,                   401, 200,  404,  E,   E,       E,   404,     E),
    row("api:self_check",         d_draft,        "get",   None,                   401, 404,  404,  E,   E,       E,   200,     E),
    row("api:submit",             a_draft,        "post",  nothing,                401, 200,  404,  E,   E,       E,   404,     E),
    row("api:submit",             d_draft,        "post",  nothing,                401, 404,  404,  E,   E,       E,   200,     E),
    row("api:withdraw",           a_submitted,    "post",  nothing,                401, 200,  404,  E,   E,       E,   404,     E),
    row("api:withdraw",           d_submitted,    "post",  nothing,                401, 404,  404,  E,   E,       E,   200,     E),
    row("api:status",             a_draft,        "get",   None,                   401, 200,  404,  E,   E,       E,   404,     E),
    row("api:status",             d_draft,        "get",   None,                   401, 404,  404,  E,   E,       E,   200,     E),
    row("api:history",            a_draft,        "get",   None,                   401, 200,  404,  404, 404,     404, 404,     404),
    row("api:history",            a_submitted,    "get",   None,                   401, 200,  404,  200, 404,     200, 404,     404),
    row("api:history",            d_submitted,    "get",   None,                   401, 404,  404,  200, 404,     200, 200,     200),
    row("api:comments",           a_draft,        "get",   None,                   401, 200,  404,  E,   E,       E,   404,     E),
    row("api:comments",           d_draft,        "get",   None,                   401, 404,  404,  E,   E,       E,   200,     E),
    row("api:correction_create",  a_library,      "post",  correction,             401, 201,  404,  E,   E,       E,   404,     E),
    row("api:correction_create",  d_library,      "post",  design_correction,      401, 404,  404,  E,   E,       E,   201,     E),
    row("api:review_queue",       no_kwargs,      "get",   None,                   401, 403,  403,  200, 200,     200, 403,     200),
    row("api:review_record",      a_submitted,    "get",   None,                   401, 403,  403,  200, 404,     200, 403,     404),
    row("api:review_record",      d_submitted,    "get",   None,                   401, 403,  403,  200, 404,     200, 403,     200),
    row("api:review_record",      a_draft,        "get",   None,                   401, 403,  403,  404, 404,     404, 403,     404),
    row("api:review_approve",     a_submitted,    "post",  approval,               401, 403,  404,  200, 404,     403, 404,     404),
    row("api:review_approve",     d_submitted,    "post",  approval,               401, 404,  404,  403, 404,     403, 403,     200),
    row("api:review_return",      a_submitted,    "post",  return_comments,        401, 403,  404,  200, 404,     403, 404,     404),
    row("api:review_return",      d_submitted,    "post",  design_return_comments, 401, 404,  404,  403, 404,     403, 403,     200),
    row("api:review_reject",      a_submitted,    "post",  rejection,              401, 403,  404,  200, 404,     403, 404,     404),
    row("api:review_reject",      d_submitted,    "post",  rejection,              401, 404,  404,  403, 404,     403, 403,     200),
]
# fmt: on


def call(client, method, url, body):
    if body is None:
        return getattr(client, method)(url)
    if isinstance(body, dict) and any(
        isinstance(v, SimpleUploadedFile) for v in [*body.values(), *body.get("evidence", [])]
    ):
        return getattr(client, method)(url, body, format="multipart")
    return getattr(client, method)(url, body, format="json")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "url_name, kwargs_of, method, body_of, expected",
    MATRIX,
    ids=[f"{method}-{name}-{kwargs_of.__name__}" for name, kwargs_of, method, _, _ in MATRIX],
)
def test_it_answers_each_role_as_the_matrix_says(world, url_name, kwargs_of, method, body_of, expected, role):
    url = reverse(url_name, kwargs=kwargs_of(world))
    response = call(client_for(world, role), method, url, body_of(world) if body_of else None)
    assert response.status_code == expected[role], response.content.decode()[:500]
    assert response["Content-Type"].startswith("application/json")
    if response.status_code >= 400:
        error = response.json()
        assert set(error) == {"code", "message", "field", "errors"}
        assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"]), error


def test_it_has_a_row_for_every_endpoint_of_v1():
    names = {f"api:{pattern.name}" for pattern in api_urls.v1}
    assert names == {name for name, *_ in MATRIX}
    _prefix, resolver = get_resolver().namespace_dict["api"]
    for name in names:
        assert resolver.reverse_dict.getlist(name.removeprefix("api:")), name


# ---------------------------------------------------------------- enterprise B's token on A's record


def _state():
    return {
        "events": AuditEvent.objects.exclude(action__endswith=".refused").count(),
        "projects": list(Project.objects.order_by("pk").values()),
        "evidence": list(Evidence.objects.order_by("pk").values_list("pk", "archived_at")),
        "registration": list(RegistrationStage.objects.order_by("pk").values()),
    }


# Every endpoint that names a record of A's (the reviewer-only ones answer B 403 whatever the record: the same
# answer for any id, so they tell nothing either; they are in the matrix above).
A_RECORD_ROWS = [
    r
    for r in MATRIX
    if r[1] in (a_draft, a_submitted, a_library, a_draft_stage) and r[4]["other_enterprise"] != 403
]


@pytest.mark.parametrize(
    "url_name, kwargs_of, method, body_of, expected",
    A_RECORD_ROWS,
    ids=[f"{method}-{name}-{kwargs_of.__name__}" for name, kwargs_of, method, _, _ in A_RECORD_ROWS],
)
def test_enterprise_b_finds_nothing_of_a_by_any_endpoint_and_changes_nothing(
    world, url_name, kwargs_of, method, body_of, expected
):
    before = _state()
    refused_before = AuditEvent.objects.filter(action__endswith=".refused").count()
    url = reverse(url_name, kwargs=kwargs_of(world))
    response = call(client_for(world, "other_enterprise"), method, url, body_of(world) if body_of else None)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert _state() == before
    # Who asked for what is on the trail (the type and id asked for, not linked to A's record).
    refusal = AuditEvent.objects.filter(action__endswith=".refused").order_by("-id").first()
    assert AuditEvent.objects.filter(action__endswith=".refused").count() == refused_before + 1
    assert refusal.actor == world.users["other_enterprise"]
    assert refusal.project is None


def test_a_reviewer_of_another_authority_decides_nothing_and_is_recorded(world):
    client = client_for(world, "reviewer_elsewhere")
    for name, body in (("api:review_approve", approval), ("api:review_return", return_comments)):
        response = call(client, "post", reverse(name, kwargs={"pk": world.submitted.pk}), body(world))
        assert response.status_code == 404
    world.submitted.refresh_from_db()
    assert world.submitted.status == Status.SUBMITTED
    actions = set(
        AuditEvent.objects.filter(actor=world.users["reviewer_elsewhere"]).values_list("action", flat=True)
    )
    assert {"review.approve.refused", "review.return.refused"} <= actions


def test_the_service_refuses_the_owner_a_decision_and_records_it(world):
    response = call(
        client_for(world, "owner"), "post", reverse("api:review_approve", args=[world.submitted.pk]), {}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert AuditEvent.objects.filter(action="review.approve.refused", project=world.submitted).exists()


# ---------------------------------------------------------------- tokens through their life


def test_a_token_is_stored_hashed_acts_as_its_user_and_marks_its_last_use(world):
    owner = world.users["owner"]
    token, key = tokens.create_token(actor=Actor(user=owner, ip_address="192.0.2.7"), name="ERP对接", days=90)
    assert key.startswith("bfp_") and len(key) > 40
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert key not in [str(v) for v in stored.values()]
    assert stored["key_hash"] == tokens.hash_key(key)
    assert token.expires_at - timezone.now() > datetime.timedelta(days=89)
    created = AuditEvent.objects.get(action="api_token.create", object_id=str(token.pk))
    assert (created.actor, created.ip_address) == (owner, "192.0.2.7")
    assert token.last_used_at is None

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    listed = client.get(reverse("api:projects")).json()["results"]
    assert {p["id"] for p in listed} == {
        world.draft.pk,
        world.submitted.pk,
        world.library.pk,
        world.noticed.pk,
    }
    token.refresh_from_db()
    assert token.last_used_at is not None
    # Written at most once a minute: a second call within it writes nothing.
    first_use = token.last_used_at
    client.get(reverse("api:projects"))
    token.refresh_from_db()
    assert token.last_used_at == first_use
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first_use - datetime.timedelta(minutes=5))
    client.get(reverse("api:projects"))
    token.refresh_from_db()
    assert token.last_used_at > first_use - datetime.timedelta(minutes=5)


def test_an_expired_token_is_refused_and_the_refusal_recorded(world):
    owner = world.users["owner"]
    token, key = tokens.create_token(actor=Actor(user=owner), name="过期的", days=30)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = client.patch(reverse("api:project", args=[world.draft.pk]), {"name": "改名"}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"
    assert "过期" in response.json()["message"]
    assert response["WWW-Authenticate"].startswith("Bearer")
    world.draft.refresh_from_db()
    assert world.draft.name == "A的草稿项目"
    refusal = AuditEvent.objects.get(action="api_token.use.refused", object_id=str(token.pk))
    assert refusal.actor == owner


def test_a_revoked_token_is_refused_and_revoking_is_recorded(world, client):
    owner = world.users["owner"]
    token, key = tokens.create_token(actor=Actor(user=owner), name="将吊销的", days=30)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.get(reverse("api:projects")).status_code == 200

    client.force_login(owner)
    response = client.post(reverse("api_tokens:revoke", args=[token.pk]))
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="api_token.revoke", object_id=str(token.pk), actor=owner).exists()

    response = api.get(reverse("api:projects"))
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"
    assert AuditEvent.objects.filter(action="api_token.use.refused", object_id=str(token.pk)).exists()


@pytest.mark.parametrize(
    "header", ["Bearer bfp_not-a-real-key", "Bearer", "Token a b", "Bearer " + "x" * 200]
)
def test_an_unknown_or_malformed_token_is_a_401(world, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(reverse("api:projects"))
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_the_session_works_for_the_browser_with_its_csrf_token(world):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.users["owner"])
    assert client.get(reverse("api:projects")).status_code == 200
    url = reverse("api:project", args=[world.draft.pk])
    response = client.patch(url, {"name": "无CSRF"}, format="json")
    assert response.status_code == 403
    client.get(reverse("api_tokens:list"))  # sets the CSRF cookie, as any page does
    csrf = client.cookies["csrftoken"].value
    response = client.patch(url, {"name": "有CSRF"}, format="json", HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 200, response.content


# ---------------------------------------------------------------- the tokens page


def test_the_page_shows_a_new_key_once_and_never_again(world, client):
    owner = world.users["owner"]
    client.force_login(owner)
    response = client.post(reverse("api_tokens:list"), {"name": "财务系统", "days": "90"})
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0") or "no-cache" in response["Cache-Control"]
    key = response.context["new_key"]
    assert key in response.content.decode()
    token = ApiToken.objects.get(user=owner, name="财务系统")
    assert token.key_hash == tokens.hash_key(key)
    again = client.get(reverse("api_tokens:list")).content.decode()
    assert key not in again and "财务系统" in again and token.prefix in again


@pytest.mark.parametrize(
    "data, message",
    [({"name": "", "days": "90"}, "必填"), ({"name": "x", "days": "9999"}, "选择一个有效的选项")],
)
def test_the_page_refuses_a_bad_form_and_makes_nothing(world, client, data, message):
    client.force_login(world.users["owner"])
    response = client.post(reverse("api_tokens:list"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ApiToken.objects.filter(user=world.users["owner"]).exclude(name="测试").exists()


def test_nobody_revokes_another_users_token(world, client):
    token = ApiToken.objects.get(user=world.users["owner"])
    client.force_login(world.users["other_enterprise"])
    assert client.post(reverse("api_tokens:revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert AuditEvent.objects.filter(
        action="api_token.revoke.refused", actor=world.users["other_enterprise"]
    ).exists()


# The URL × role matrix of the page (as tests/test_permissions.py's): a user without an organisation is refused (403).
TOKEN_PAGE_ROLES = (*ROLES[:6], "staff_without_organisation")


def own_token(w, role):
    user = w.users.get(role)
    token = ApiToken.objects.filter(user=user).first() if user else None
    return {"token_id": token.pk if token else 999999}


# fmt: off
PAGE_MATRIX = [
    #   url name               method  kwargs             anon     owner  other  rev    rev-else city   staff
    ("api_tokens:list",   "get",  lambda w, r: {},   ("LOGIN", 200,   200,   200,   200,     200,   403)),
    ("api_tokens:list",   "post", lambda w, r: {},   ("LOGIN", 200,   200,   200,   200,     200,   403)),
    ("api_tokens:revoke", "post", own_token,         ("LOGIN", 302,   302,   302,   302,     302,   404)),
    ("api_tokens:revoke", "get",  own_token,         (405,     405,   405,   405,   405,     405,   405)),
]
# fmt: on


@pytest.mark.parametrize("role", TOKEN_PAGE_ROLES)
# Ids from the URL name and method only: a function's repr holds its address, which differs between the xdist
# workers, and each worker must collect the same test names.
@pytest.mark.parametrize(
    "url_name, method, kwargs_of, cells", PAGE_MATRIX, ids=[f"{row[0]}-{row[1]}" for row in PAGE_MATRIX]
)
def test_the_tokens_page_answers_each_role_as_the_matrix_says(
    world, client, role, url_name, method, kwargs_of, cells
):
    users = {**world.users, "staff_without_organisation": UserFactory(username="staff-no-org", is_staff=True)}
    user = users[role]
    if user is not None:
        client.force_login(user)
    url = reverse(url_name, kwargs=kwargs_of(world, role))
    data = {"name": "矩阵", "days": "30"} if url_name == "api_tokens:list" else {}
    response = client.post(url, data) if method == "post" else client.get(url)
    want = dict(zip(TOKEN_PAGE_ROLES, cells, strict=True))[role]
    if want == "LOGIN":
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    else:
        assert response.status_code == want


def test_the_tokens_page_matrix_covers_every_url_of_the_page():
    from api import token_urls

    assert {f"api_tokens:{p.name}" for p in token_urls.urlpatterns} == {name for name, *_ in PAGE_MATRIX}
