"""A whole backfill through the open API, ending in the national library, with the real parts: PostgreSQL, a Celery
worker and beat on Redis, the national-platform simulator over HTTP, the portal's WSGI stack through the test client.

The enterprise makes its token on the tokens page, then only calls the API: create, six stages, evidence, self-check,
submit. The reviewer (its own token) reads its queue and the record, approves. The only time machine is moving the
notice's `ends_at` into the past; beat's sweep, the outbox, the worker's delivery and the simulator do the rest. The
public then finds the record, and the enterprise's 业绩, through the public endpoints.
"""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from api import tokens
from projects.audit import Actor
from projects.models import STAGE_ORDER, Project, Status
from publicity.models import LibraryEntry
from tests.builders import PDF_BYTES, end_notices, make_enterprise_user, make_reviewer, valid_stage_data
from tests.processes import needs_postgresql_and_redis, wait_for

pytestmark = [needs_postgresql_and_redis, pytest.mark.django_db(transaction=True)]


def as_json(values: dict) -> dict:
    return {
        name: value.isoformat()
        if isinstance(value, datetime.date)
        else str(value)
        if isinstance(value, Decimal)
        else value
        for name, value in values.items()
    }


def bearer(key: str) -> APIClient:
    client = APIClient(REMOTE_ADDR="192.0.2.44")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def ok(response, status=200) -> dict:
    assert response.status_code == status, response.content.decode()[:1000]
    return response.json()


def test_a_backfill_made_only_through_the_api_enters_the_national_library(
    celery_stack, national_platform, authorities, open_windows, client
):
    _base_url, simulator = national_platform
    yuzhong = authorities["500103"]
    clerk = make_enterprise_user(username="erp-clerk")
    enterprise = clerk.membership.enterprise
    reviewer = make_reviewer(yuzhong, username="yz-reviewer")
    worker = celery_stack.worker()
    beat = celery_stack.beat()
    logs = [worker, beat]

    # The clerk makes a token on the page; the key is shown once.
    client.force_login(clerk)
    page = client.post(reverse("api_tokens:list"), {"name": "企业ERP对接", "days": "90"})
    api = bearer(page.context["new_key"])

    # Create, then the six stages, each with its evidence.
    created = ok(
        api.post(
            "/api/v1/projects/",
            {
                "name": "渝中区解放碑商务楼",
                "authority": yuzhong.pk,
                "address": "重庆市渝中区解放碑街道民族路1号",
                "project_type": "building_general",
                "is_completed": True,
                "is_classified": False,
                "already_in_national_library": False,
                "start_basis": "permit",
                "total_investment": "15000000.00",
                "total_area": "8888.00",
            },
            format="json",
        ),
        201,
    )
    pk = created["id"]
    assert created["status"] == "draft" and len(created["project_number"]) == 16
    for code, values in valid_stage_data(enterprise).items():
        saved = ok(api.put(f"/api/v1/projects/{pk}/stages/{code}/", as_json(values), format="json"))
        assert saved["filled"] is True
        upload = SimpleUploadedFile(f"{code}.pdf", PDF_BYTES, content_type="application/pdf")
        ok(
            api.post(f"/api/v1/projects/{pk}/stages/{code}/evidence/", {"file": upload}, format="multipart"),
            201,
        )

    check = ok(api.get(f"/api/v1/projects/{pk}/check/"))
    assert check["can_submit"] is True, check["findings"]
    assert (
        ok(api.post(f"/api/v1/projects/{pk}/submit/", {"expected_status": "draft"}, format="json"))["status"]
        == "submitted"
    )

    # The reviewer: its queue, the record, the decision.
    review = bearer(tokens.create_token(actor=Actor(user=reviewer), name="区县系统", days=30)[1])
    queue = ok(review.get("/api/v1/review/queue/"))["results"]
    assert [row["id"] for row in queue] == [pk]
    record = ok(review.get(f"/api/v1/review/projects/{pk}/"))
    assert record["may_decide"] is True and record["errors"] == 0
    assert set(record["stages"]) == set(STAGE_ORDER)
    ok(review.post(f"/api/v1/review/projects/{pk}/approve/", {"expected_status": "submitted"}, format="json"))

    status = ok(api.get(f"/api/v1/projects/{pk}/status/"))
    assert status["status"] == "in_notice"
    public = APIClient()
    notices = ok(public.get("/api/v1/public/notices/"))["results"]
    assert [n["project_number"] for n in notices] == [created["project_number"]]

    # The notice ends; beat's sweep and the worker deliver it to the simulator.
    end_notices(Project.objects.get(pk=pk))
    wait_for(
        lambda: ok(api.get(f"/api/v1/projects/{pk}/status/"))["status"] == Status.IN_NATIONAL_LIBRARY,
        timeout=90,
        what="the record to enter the national library",
        logs=logs,
    )
    status = ok(api.get(f"/api/v1/projects/{pk}/status/"))
    national_id = LibraryEntry.objects.get(project_id=pk).national_id
    assert status["national_id"] == national_id == f"NP-{created['project_number']}"
    assert [r["project_number"] for r in simulator.records()["records"]] == [created["project_number"]]

    # The public finds it, and the enterprise's 业绩 by its credit code.
    entry = ok(public.get(f"/api/v1/public/library/{national_id}/"))
    assert entry["project_name"] == "渝中区解放碑商务楼" and [v["version"] for v in entry["versions"]] == [1]
    performance = ok(public.get(f"/api/v1/public/performance/{enterprise.credit_code}/"))["results"]
    assert [r["national_id"] for r in performance] == [national_id]
    assert ("合同金额（元）", "12345678.00") in [tuple(pair) for pair in performance[0]["figures"]]

    # Every call was audited as its page: who, from where.
    history = ok(api.get(f"/api/v1/projects/{pk}/history/"))
    by_clerk = [row for row in history if row["actor"] == "erp-clerk"]
    assert {row["ip_address"] for row in by_clerk} == {"192.0.2.44"}
    summaries = [row["summary"] for row in history]
    for expected in ("新建补录项目", "上传证明材料", "提交审核", "审核通过", "进入全国平台项目库"):
        assert any(expected in s for s in summaries), (expected, summaries)
