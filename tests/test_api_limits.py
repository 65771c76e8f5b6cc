"""The open API's bad input and abuse (docs/api.md, "Errors" and "Limits"): a 50 MB body, a JSON bomb, malformed
JSON, a code value outside its table, a record that fails its self-check, a locked record, a stale state; the
throttles per client address and per user; bounded pages; public data only; the schema and its docs served from
our own files."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from rest_framework.test import APIClient

from api import tokens
from projects.audit import Actor
from projects.models import AuditEvent, Evidence, Project, Status
from review import services as review_services
from tests.builders import (
    CHIEF_SUPERVISOR_ID,
    PROJECT_MANAGER_ID,
    enter_library,
    make_enterprise_user,
    make_project,
    make_reviewer,
)

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


@pytest.fixture
def owner(db):
    return make_enterprise_user(username="owner-a")


@pytest.fixture
def api(owner):
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {tokens.create_token(actor=Actor(user=owner), name='t', days=30)[1]}"
    )
    return client


@pytest.fixture
def draft(owner, yuzhong, open_windows):
    return make_project(owner.membership.enterprise, owner, yuzhong, name="草稿")


def snapshot(project):
    project.refresh_from_db()
    return (
        project.status,
        project.name,
        Evidence.objects.filter(project=project).count(),
        AuditEvent.objects.exclude(action__endswith=".refused").count(),
    )


# ---------------------------------------------------------------- bodies


def test_a_50_mb_json_body_is_refused_unread(api, draft):
    before = snapshot(draft)
    response = api.generic(
        "PATCH", reverse("api:project", args=[draft.pk]), b"{" + b" " * (50 * MB) + b"}", "application/json"
    )
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
    assert snapshot(draft) == before


def test_a_50_mb_upload_is_refused_before_it_is_stored(api, draft, evidence_storage):
    before = snapshot(draft)
    big = b"%PDF-1.4\n" + b"0" * (50 * MB)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = api.post(
        reverse("api:evidence", args=[draft.pk, "permit"]),
        {"file": SimpleUploadedFile("大文件.pdf", big, "application/pdf")},
        format="multipart",
    )
    assert response.status_code == 413
    assert "超过上限" in response.json()["message"]
    assert snapshot(draft) == before
    assert not any(evidence_storage.iterdir())


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,  # deep: Python's parser would recurse until it fails
        b'{"name": ' + b'{"a": ' * 50 + b"1" + b"}" * 50 + b"}",
    ],
    ids=["deep-array", "deep-object"],
)
def test_a_json_bomb_is_refused(api, draft, body):
    before = snapshot(draft)
    response = api.generic("PATCH", reverse("api:project", args=[draft.pk]), body, "application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "json_too_deep"
    assert snapshot(draft) == before


def test_a_wide_json_bomb_is_refused_by_its_size(api, draft):
    body = b'{"name": [' + b"1," * (2 * MB) + b"1]}"
    response = api.generic("PATCH", reverse("api:project", args=[draft.pk]), body, "application/json")
    assert response.status_code == 413


@pytest.mark.parametrize("body", [b"{", b"\xff\xfe", b'{"name": NaN}', b'{"a": 1' + b"0" * 5000 + b"}"])
def test_malformed_json_is_a_400_in_chinese(api, draft, body):
    response = api.generic("PATCH", reverse("api:project", args=[draft.pk]), body, "application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert "JSON" in response.json()["message"]


def test_strings_with_brackets_are_no_nesting(api, draft):
    response = api.patch(
        reverse("api:project", args=[draft.pk]), {"name": "[[[[" * 30 + "工程"}, format="json"
    )
    assert response.status_code in (200, 400)
    assert response.json().get("code") != "json_too_deep"


# ---------------------------------------------------------------- fields, rules, states


def test_a_code_value_outside_its_table_is_refused_on_its_field(api, draft):
    before = snapshot(draft)
    response = api.put(
        reverse("api:stage", args=[draft.pk, "registration"]), {"function_code": "998"}, format="json"
    )
    assert response.status_code == 400
    error = response.json()
    assert (error["code"], error["field"]) == ("invalid", "function_code")
    assert "998" in error["message"] or "有效" in error["message"]
    assert snapshot(draft) == before


@pytest.mark.parametrize("value", [["a"], {"a": 1}])
def test_a_value_of_the_wrong_json_type_is_refused_not_a_500(api, draft, value):
    response = api.put(
        reverse("api:stage", args=[draft.pk, "completion"]), {"filed_on": value}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["field"] == "filed_on"


def test_an_unknown_field_is_named(api, draft):
    response = api.patch(reverse("api:project", args=[draft.pk]), {"colour": "红"}, format="json")
    assert response.status_code == 400
    assert response.json()["field"] == "colour"


def test_submitting_a_record_with_errors_lists_the_rules_and_changes_nothing(
    api, owner, yuzhong, open_windows
):
    incomplete = make_project(
        owner.membership.enterprise, owner, yuzhong, stages=["registration"], evidence=False
    )
    before = snapshot(incomplete)
    check = api.get(reverse("api:self_check", args=[incomplete.pk])).json()
    assert check["can_submit"] is False

    response = api.post(reverse("api:submit", args=[incomplete.pk]), {}, format="json")
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "rule_violation"
    # The same findings as the self-check, with their rule codes.
    errors = {(e["code"], e["stage"], e["field"]) for e in error["errors"]}
    from_check = {
        (f["code"], f["stage"], f["field"] or None) for f in check["findings"] if f["severity"] == "error"
    }
    assert errors == from_check
    assert snapshot(incomplete) == before


def test_a_locked_record_is_a_409_and_the_refusal_is_recorded(api, owner, yuzhong, open_windows):
    submitted = make_project(owner.membership.enterprise, owner, yuzhong, status=Status.SUBMITTED)
    response = api.patch(reverse("api:project", args=[submitted.pk]), {"name": "改名"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "record_locked"
    response = api.put(reverse("api:stage", args=[submitted.pk, "permit"]), {"area": "1"}, format="json")
    assert response.status_code == 409
    actions = set(AuditEvent.objects.filter(project=submitted).values_list("action", flat=True))
    assert {"project.update.refused", "stage.save.refused"} <= actions


def test_a_decision_on_a_state_the_caller_did_not_see_is_a_409(owner, yuzhong, open_windows):
    submitted = make_project(owner.membership.enterprise, owner, yuzhong, status=Status.SUBMITTED)
    reviewer = make_reviewer(yuzhong, username="rv")
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {tokens.create_token(actor=Actor(user=reviewer), name='t', days=30)[1]}"
    )
    response = client.post(
        reverse("api:review_approve", args=[submitted.pk]), {"expected_status": "returned"}, format="json"
    )
    assert response.status_code == 409
    assert Project.objects.get(pk=submitted.pk).status == Status.SUBMITTED


def test_return_needs_a_comment(owner, yuzhong, open_windows):
    submitted = make_project(owner.membership.enterprise, owner, yuzhong, status=Status.SUBMITTED)
    reviewer = make_reviewer(yuzhong, username="rv")
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {tokens.create_token(actor=Actor(user=reviewer), name='t', days=30)[1]}"
    )
    response = client.post(reverse("api:review_return", args=[submitted.pk]), {"comments": []}, format="json")
    assert response.status_code == 400
    assert "至少一条" in response.json()["message"]
    response = client.post(
        reverse("api:review_return", args=[submitted.pk]),
        {"comments": [{"stage": "permit", "field": "no_such_field", "text": "x"}]},
        format="json",
    )
    assert response.status_code == 400
    assert Project.objects.get(pk=submitted.pk).status == Status.SUBMITTED


# ---------------------------------------------------------------- throttles


def test_the_public_endpoints_are_throttled_per_client_address(settings, db):
    settings.API_PUBLIC_RATE = "3/h"
    client = APIClient()
    url = reverse("api:notices")
    for _ in range(3):
        assert client.get(url, REMOTE_ADDR="192.0.2.1").status_code == 200
    refused = client.get(url, REMOTE_ADDR="192.0.2.1")
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert "频繁" in refused.json()["message"]
    assert int(refused["Retry-After"]) > 0
    # (Per hour: a fixed window that turns over during the test would let a call through.) Another address has its
    # own count; a forged X-Forwarded-For does not make a new one (no trusted proxy).
    assert client.get(url, REMOTE_ADDR="192.0.2.2").status_code == 200
    assert client.get(url, REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="198.51.100.9").status_code == 429


def test_behind_a_trusted_proxy_each_client_has_its_own_count(settings, db):
    settings.API_PUBLIC_RATE = "2/h"
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    client = APIClient()
    url = reverse("api:library")
    for _ in range(2):
        assert client.get(url, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 200
    assert client.get(url, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 429
    assert client.get(url, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 200


def test_the_public_count_is_django_ratelimits_counter_and_ends_with_its_window(settings, db):
    """Where the cache is Redis the count is one Lua script (backfill_portal.cache.FailSafeRedisCache.count), in the
    very counter django-ratelimit keeps: the same key and count, an expiry of the window (and its 5 s of fudge)."""
    import time

    from django.core.cache import cache
    from django.test import RequestFactory
    from django_ratelimit import ALL
    from django_ratelimit.core import _get_window, _make_cache_key, get_usage

    from api import throttling

    settings.API_PUBLIC_RATE = "5/h"
    client = APIClient()
    for _ in range(2):
        assert client.get(reverse("api:notices"), REMOTE_ADDR="192.0.2.7").status_code == 200
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.7")
    usage = get_usage(request, group="api.public", key=throttling._address, rate="5/h", increment=False)
    assert usage["count"] == 2 and not usage["should_limit"]
    if hasattr(cache, "count"):
        key = _make_cache_key("api.public", _get_window("192.0.2.7", 3600), "5/h", "192.0.2.7", ALL)
        time_to_live = cache._cache.get_client().ttl(cache.make_key(key))
        assert 0 < time_to_live <= 3605
        assert time_to_live >= _get_window("192.0.2.7", 3600) - int(time.time())


def test_the_endpoints_behind_a_login_are_throttled_per_user(settings, api, draft):
    settings.API_USER_RATE = "2/h"
    url = reverse("api:projects")
    assert [api.get(url).status_code for _ in range(3)] == [200, 200, 429]


# ---------------------------------------------------------------- pages of lists


def test_a_page_is_bounded_and_the_cursor_walks_the_list(api, owner, yuzhong, open_windows):
    for n in range(5):
        make_project(
            owner.membership.enterprise, owner, yuzhong, name=f"项目{n}", stages=False, evidence=False
        )
    first = api.get(reverse("api:projects"), {"page_size": 2}).json()
    assert len(first["results"]) == 2 and first["next"]
    second = api.get(first["next"]).json()
    assert {p["id"] for p in first["results"]}.isdisjoint({p["id"] for p in second["results"]})
    everything = api.get(reverse("api:projects"), {"page_size": 100000}).json()
    assert len(everything["results"]) == 5
    from api.pagination import MAX_PAGE_SIZE

    assert MAX_PAGE_SIZE == 100
    assert api.get(reverse("api:projects"), {"cursor": "garbage"}).status_code == 404


# ---------------------------------------------------------------- public data only


def test_the_public_endpoints_show_no_id_number(owner, yuzhong, open_windows):
    reviewer = make_reviewer(yuzhong, username="rv")
    noticed = review_services.approve(
        actor=Actor(user=reviewer),
        project=make_project(owner.membership.enterprise, owner, yuzhong, status=Status.SUBMITTED),
    )
    entered = enter_library(
        make_project(owner.membership.enterprise, owner, yuzhong, status=Status.SUBMITTED)
    )
    client = APIClient()
    from publicity.models import Notice

    bodies = [
        client.get(reverse("api:notice", args=[Notice.objects.get(project=noticed).pk])),
        client.get(reverse("api:library_entry", args=[entered.library_entry.national_id])),
        client.get(reverse("api:performance", args=[owner.membership.enterprise.credit_code])),
        client.get(reverse("api:notices")),
    ]
    for response in bodies:
        assert response.status_code == 200
        text = response.content.decode()
        assert PROJECT_MANAGER_ID not in text and CHIEF_SUPERVISOR_ID not in text


@pytest.mark.parametrize("code", ["TOO-SHORT", "91500103MA0000000!"[:17]])
def test_a_malformed_credit_code_is_a_400_naming_the_field(db, code):
    for name in ("api:performance", "api:blacklist"):
        response = APIClient().get(reverse(name, args=[code]))
        assert response.status_code == 400
        assert response.json()["field"] == "credit_code"


# ---------------------------------------------------------------- the schema and its docs


def test_the_schema_is_openapi_3_with_every_endpoint(db):
    schema = APIClient().get("/api/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/projects/{id}/submit/" in schema["paths"]
    assert "/api/v1/public/performance/{credit_code}/" in schema["paths"]
    assert schema["components"]["securitySchemes"]["personalToken"]["scheme"] == "bearer"


@pytest.mark.parametrize("path", ["/api/v1/projects/abc/", "/api/v2/", "/api/v1/nothing/"])
def test_a_path_of_no_endpoint_is_a_json_404(db, path):
    response = APIClient().get(path)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_docs_are_served_from_our_own_static_files(db):
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"""(src|href)=["']https?://""", html), "no CDN"
    for path in re.findall(r"""(?:src|href)=["']/static/([^"']+)["']""", html):
        assert finders.find(path), path
    # Inline styles are allowed on this page only (Swagger UI sets one); scripts stay the portal's own files.
    policy = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";") if part.strip()
    )
    assert "'unsafe-inline'" in policy["style-src"] and policy["script-src"] == "'self'"
    assert "'unsafe-inline'" not in APIClient().get("/api/v1/public/notices/").get(
        "Content-Security-Policy", ""
    )
    # Swagger UI's start-up script is a file of its own (a Content-Security-Policy without inline scripts holds).
    assert "<script>" not in html.replace(" ", "")
    script = re.search(r"""src=["'](/api/docs/\?script=[^"']*)["']""", html)[1]
    assert "/api/openapi.json" in APIClient().get(script.replace("&amp;", "&")).content.decode()
