"""Design records through the open API (docs/api.md, docs/design-projects.md), on PostgreSQL: a survey/design
enterprise's token creates a design draft, fills its three stages (the designers as JSON objects), uploads the
evidence by part, self-checks (the design rules' codes), submits; the agency named on the certificate finds it in
its queue, returns it with a field comment, the enterprise fixes it and resubmits, the agency approves. The
refusals: each enterprise starts only its own kind, another agency finds nothing, the district may not decide;
nothing changes, each refusal is audited. The permission cells are in tests/test_api.py's matrix."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from api import tokens
from projects import rules
from projects.audit import Actor
from projects.models import AuditEvent, Project, ProjectKind, Status
from tests.builders import (
    DESIGNER_ID,
    PDF_BYTES,
    design_stage_data,
    make_agency,
    make_agency_reviewer,
    make_design_enterprise_user,
    make_design_project,
    make_enterprise_user,
)
from tests.needs import needs_service
from tests.test_api_lifecycle import as_json, ok

pytestmark = [
    needs_service(connection.vendor == "postgresql", reason="the API's design flow is tested on PostgreSQL"),
    pytest.mark.django_db,
]

OTHER_AGENCY_CODE = "91500103MC00000124"


def bearer(user) -> APIClient:
    _token, key = tokens.create_token(actor=Actor(user=user), name="接口", days=30)
    client = APIClient(REMOTE_ADDR="192.0.2.45")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def refused(response, status) -> dict:
    assert response.status_code == status, response.content.decode()[:1000]
    error = response.json()
    assert set(error) == {"code", "message", "field", "errors"}
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"]), error
    return error


def pdf(name):
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def design_basics(authority, **more) -> dict:
    return {
        "name": "接口补录的设计项目",
        "authority": authority.pk,
        "address": "重庆市渝中区民族路8号",
        "project_type": "building_works",
        "is_classified": False,
        "already_in_national_library": False,
        "total_investment": "15000000.00",
        "total_area": "8888.00",
        **more,
    }


@pytest.fixture
def people(yuzhong, open_windows):
    designer = make_design_enterprise_user(username="api-designer")
    agency_reviewer = make_agency_reviewer(make_agency(), username="api-agency")
    return designer, agency_reviewer


def test_a_design_record_made_only_through_the_api_is_returned_fixed_and_approved_by_its_agency(
    people, yuzhong
):
    designer, agency_reviewer = people
    enterprise = designer.membership.enterprise
    ours, agency = bearer(designer), bearer(agency_reviewer)
    data = design_stage_data(enterprise)

    # A draft: the kind is the enterprise's; its stages are the design record's three.
    record = ok(ours.post(reverse("api:projects"), design_basics(yuzhong), format="json"), 201)
    pk = record["id"]
    assert record["kind"] == ProjectKind.DESIGN
    assert list(record["stages"]) == ["tendering", "contract", "drawing_review"]
    assert "is_completed" not in record["values"]
    stage = reverse("api:stage", kwargs={"pk": pk, "stage_code": "drawing_review"})
    assert ok(ours.get(stage))["evidence_parts"] == ["certificate", "cover_sheet"]
    assert ours.get(reverse("api:stage", kwargs={"pk": pk, "stage_code": "permit"})).status_code == 404

    for code in ("tendering", "contract"):
        url = reverse("api:stage", kwargs={"pk": pk, "stage_code": code})
        ok(ours.put(url, as_json(data[code]), format="json"))
    # The designers as JSON objects; a document type may be named (身份证) or coded (1), as typed on the page.
    review = as_json(data["drawing_review"])
    wrong = dict(
        review["designers"][0],
        id_type="身份证",
        id_number=DESIGNER_ID[:-1] + ("2" if DESIGNER_ID[-1] == "1" else "1"),
    )
    review["designers"] = [wrong, review["designers"][1]]
    # As the page: a designer's wrong document number is refused on save (DLEGAL-2), the person named.
    error = refused(ours.put(stage, review, format="json"), 400)
    assert [(e["code"], e["field"]) for e in error["errors"]] == [("DLEGAL-2", "designers")]
    assert wrong["name"] in error["message"]
    review["designers"][0]["id_number"] = DESIGNER_ID
    saved = ok(ours.put(stage, review, format="json"))
    assert saved["values"]["designers"][0]["id_type"] == "1"  # stored as its code

    # The self-check: the design rules by code; the evidence is missing, so it may not be submitted.
    check = ok(ours.get(reverse("api:self_check", args=[pk])))
    design_rules = {r.code for r in rules.RULES if ProjectKind.DESIGN in r.kinds}
    assert check["rule_count"] == len(design_rules)
    assert check["findings"] and {f["code"] for f in check["findings"]} <= design_rules
    assert not check["can_submit"]
    refused(ours.post(reverse("api:submit", args=[pk]), {}, format="json"), 400)
    assert Project.objects.get(pk=pk).status == Status.DRAFT

    for code, part in (("tendering", ""), ("contract", ""), ("drawing_review", "certificate")):
        url = reverse("api:evidence", kwargs={"pk": pk, "stage_code": code})
        uploaded = ok(ours.post(url, {"file": pdf(f"{code}.pdf"), "part": part}, format="multipart"), 201)
        assert uploaded["part"] == part
    # A part the stage does not have: refused by the service, audited.
    url = reverse("api:evidence", kwargs={"pk": pk, "stage_code": "contract"})
    refused(ours.post(url, {"file": pdf("x.pdf"), "part": "cover_sheet"}, format="multipart"), 400)
    assert AuditEvent.objects.filter(project_id=pk, action="evidence.add.refused").exists()
    # The cover sheet is still missing.
    check = ok(ours.get(reverse("api:self_check", args=[pk])))
    assert not check["can_submit"]
    url = reverse("api:evidence", kwargs={"pk": pk, "stage_code": "drawing_review"})
    ok(ours.post(url, {"file": pdf("图签页.pdf"), "part": "cover_sheet"}, format="multipart"), 201)
    check = ok(ours.get(reverse("api:self_check", args=[pk])))
    assert check["errors"] == 0 and check["can_submit"], check["findings"]

    # Submitted: routed to the agency the certificate names.
    ok(ours.post(reverse("api:submit", args=[pk]), {"expected_status": "draft"}, format="json"))
    project = Project.objects.get(pk=pk)
    assert project.status == Status.SUBMITTED
    assert project.reviewing_agency == agency_reviewer.membership.enterprise

    # The agency's queue and the record; a return with a comment on the designers.
    queue = ok(agency.get(reverse("api:review_queue")))["results"]
    assert [row["id"] for row in queue] == [pk]
    seen = ok(agency.get(reverse("api:review_record", args=[pk])))
    assert seen["may_decide"] and seen["kind"] == ProjectKind.DESIGN
    assert set(seen["stages"]) == {"tendering", "contract", "drawing_review"}
    comment = {"stage": "drawing_review", "field": "designers", "text": "请补充校对人"}
    returned = ok(
        agency.post(reverse("api:review_return", args=[pk]), {"comments": [comment]}, format="json")
    )
    assert returned["status"] == Status.RETURNED

    # The enterprise reads the comment, adds the person, resubmits.
    comments = ok(ours.get(reverse("api:comments", args=[pk])))
    assert [(c["field"], c["open"]) for c in comments] == [("designers", True)]
    third = dict(review["designers"][1], name="钱校对", role="校对人")
    ok(ours.patch(stage, {"designers": [*review["designers"], third]}, format="json"))
    ok(ours.post(reverse("api:submit", args=[pk]), {"expected_status": "returned"}, format="json"))

    # The agency sees what changed and approves: into the notice (DESIGN_PROJECTS_NOTICED).
    seen = ok(agency.get(reverse("api:review_record", args=[pk])))
    assert any(c["field"] == "designers" for c in seen["changes_since_previous_submission"])
    approved = ok(agency.post(reverse("api:review_approve", args=[pk]), {"comment": "同意"}, format="json"))
    assert approved["status"] == Status.IN_NOTICE
    status = ok(ours.get(reverse("api:status", args=[pk])))
    assert status["status"] == Status.IN_NOTICE and status["receipts"]
    history = ok(ours.get(reverse("api:history", args=[pk])))
    assert len(history) >= 8
    actions = set(AuditEvent.objects.filter(project_id=pk).values_list("action", flat=True))
    assert {"project.create", "stage.create", "evidence.add", "project.submit", "review.return"} <= actions
    assert {"review.approve"} <= actions


def test_each_enterprise_starts_only_its_own_kind_of_record_refused_audited_nothing_made(people, yuzhong):
    designer, _agency_reviewer = people
    builder = make_enterprise_user(username="api-builder")
    before = Project.objects.count()

    error = refused(
        bearer(builder).post(reverse("api:projects"), design_basics(yuzhong, kind="design"), format="json"),
        403,
    )
    assert error["code"] == "permission_denied" and "设计项目" in error["message"]
    construction = {
        "kind": "construction",
        "name": "勘察设计企业的施工项目",
        "authority": yuzhong.pk,
        "address": "重庆市渝中区民族路9号",
        "project_type": "building_general",
        "is_completed": True,
        "is_classified": False,
        "already_in_national_library": False,
        "start_basis": "permit",
    }
    error = refused(bearer(designer).post(reverse("api:projects"), construction, format="json"), 403)
    assert "施工项目" in error["message"]
    # A kind that is none: the form's refusal, by field.
    error = refused(
        bearer(designer).post(reverse("api:projects"), design_basics(yuzhong, kind="bridge"), format="json"),
        400,
    )
    assert error["field"] == "kind"

    assert Project.objects.count() == before
    refusals = AuditEvent.objects.filter(action="project.create.refused")
    assert {e.actor for e in refusals} == {builder, designer}


def test_designers_of_the_wrong_shape_are_refused_by_field(people, yuzhong):
    designer, _ = people
    project = make_design_project(designer.membership.enterprise, designer, yuzhong)
    url = reverse("api:stage", kwargs={"pk": project.pk, "stage_code": "drawing_review"})
    client = bearer(designer)
    stored = list(project.drawing_review.designers)

    for designers in (
        [1, 2],
        [{"name": "王设计", "salary": "1"}],
        [{"name": ["王设计"]}],
        {"name": "王设计"},
    ):
        error = refused(client.patch(url, {"designers": designers}, format="json"), 400)
        assert error["field"] == "designers", error

    project.drawing_review.refresh_from_db()
    assert project.drawing_review.designers == stored


def test_another_agency_finds_nothing_and_the_district_may_read_but_not_decide(people, yuzhong, reviewer):
    designer, agency_reviewer = people
    project = make_design_project(
        designer.membership.enterprise,
        designer,
        yuzhong,
        status=Status.SUBMITTED,
        reviewing_agency=agency_reviewer.membership.enterprise,
    )
    elsewhere = make_agency_reviewer(make_agency(OTHER_AGENCY_CODE, "另一审查机构"), username="api-agency-2")
    other_agency, district = bearer(elsewhere), bearer(reviewer)
    approve = reverse("api:review_approve", args=[project.pk])

    refused(other_agency.get(reverse("api:review_record", args=[project.pk])), 404)
    assert ok(other_agency.get(reverse("api:review_queue")))["results"] == []
    refused(other_agency.post(approve, {}, format="json"), 404)
    # The district reads it, and is refused the decision with the reason.
    assert not ok(district.get(reverse("api:review_record", args=[project.pk])))["may_decide"]
    error = refused(district.post(approve, {}, format="json"), 403)
    assert "施工图审查机构" in error["message"]
    refused(
        district.post(
            reverse("api:review_reject", args=[project.pk]),
            {"ground": "out_of_scope", "reason": "不在补录范围"},
            format="json",
        ),
        403,
    )

    project.refresh_from_db()
    assert project.status == Status.SUBMITTED
    refusals = AuditEvent.objects.filter(action__endswith=".refused")
    assert refusals.filter(actor=elsewhere, action="review.approve.refused").exists()
    assert refusals.filter(actor=elsewhere, action="project.view.refused").exists()
    assert refusals.filter(actor=reviewer, action="review.approve.refused", project=project).exists()
    assert refusals.filter(actor=reviewer, action="review.reject.refused", project=project).exists()
    assert not AuditEvent.objects.filter(
        project=project, action__in=["review.approve", "review.reject"]
    ).exists()
