"""The bulk import of design records (设计项目): a survey/design enterprise's template, import, re-import, evidence
and export, through the same code as a construction enterprise's (imports.services, parametrised by the
enterprise's kind), and each kind refused the other's workbook. In process (services.run_job); the same through a
real worker on PostgreSQL and Redis at the end of this file."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from imports import layout, reading, services
from imports.models import ImportJob, JobStatus
from projects import audit, rules
from projects.audit import Actor
from projects.models import AuditEvent, Evidence, Project, ProjectKind, Status
from tests.builders import (
    EXE_BYTES,
    PDF_BYTES,
    make_design_enterprise_user,
    make_design_project,
    make_enterprise_user,
)
from tests.import_builders import column_letter, design_row, fill, project_row
from tests.processes import needs_postgresql_and_redis, wait_for
from tests.test_imports import evidence_zip
from tests.test_imports_worker import shared_storage  # noqa: F401 (a fixture)

DESIGN = ProjectKind.DESIGN


@pytest.fixture
def designer_clerk(authorities, open_windows):
    return make_design_enterprise_user(username="design-importer")


def run(user, data, *, evidence=None):
    job = services.start_import(
        actor=Actor(user=user),
        workbook=SimpleUploadedFile("设计.xlsx", data),
        evidence_zip=SimpleUploadedFile("材料.zip", evidence) if evidence else None,
    )
    return services.run_job(job.pk)


def headers_of(data, kind):
    sheet = load_workbook(io.BytesIO(data))[layout.SHEETS[kind]]
    return [c.value for c in sheet[layout.HEADER_ROW]]


@pytest.mark.django_db
def test_a_design_enterprise_downloads_the_design_template_and_a_construction_one_its_own(
    client, designer_clerk
):
    client.force_login(designer_clerk)
    response = client.get(reverse("imports:template"))
    assert response.status_code == 200
    assert "%E8%AE%BE%E8%AE%A1" in response["Content-Disposition"]  # 设计项目导入模板.xlsx
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames[:2] == [layout.HELP_SHEET, "设计项目"]
    headers = headers_of(response.content, DESIGN)
    assert "施工图审查·勘察设计人员（必填）" in headers
    assert "施工图审查·设计单位统一社会信用代码（必填）" in headers
    assert "合同备案·合同类别（必填）" in headers
    assert "项目招投标·招标类型（必填）" in headers  # required when there was a tender, as the form marks it
    # Only the design record's parts: no construction stage, no construction-only question.
    assert not any(str(h).startswith(("项目报建", "施工许可", "竣工验收")) for h in headers[1:])
    assert "是否已竣工（必填）" not in headers and "项目招投标·项目经理姓名" not in headers
    help_text = "\n".join(str(c.value) for c in workbook[layout.HELP_SHEET]["A"] if c.value)
    assert "施工图审查合格书" in help_text and "每行一人" in help_text
    # The example row is a clean design record but is not imported; an unfilled template imports nothing.
    assert reading.read_workbook(response.content, "t.xlsx", DESIGN).rows == []

    construction = make_enterprise_user(username="construction-clerk")
    client.force_login(construction)
    workbook = load_workbook(io.BytesIO(client.get(reverse("imports:template")).content))
    assert "设计项目" not in workbook.sheetnames and layout.SHEET in workbook.sheetnames
    headers = headers_of(client.get(reverse("imports:template")).content, ProjectKind.CONSTRUCTION)
    assert not any("勘察设计人员" in str(h) for h in headers)


@pytest.mark.django_db
def test_it_imports_design_rows_with_designers_and_refuses_a_bad_row_with_its_cell(designer_clerk):
    enterprise = designer_clerk.membership.enterprise
    bad = design_row(enterprise)
    bad[("drawing_review", "designers")] = (
        "王设计 身份证 500222198508153210 注册建筑师 一级 项目负责人"  # check digit
    )
    data = fill([design_row(enterprise), bad, design_row(enterprise)], kind=DESIGN)
    job = run(designer_clerk, data)
    assert job.status == JobStatus.DONE, job.message
    assert (job.created_count, job.refused_count) == (2, 1), job.results
    drafts = Project.objects.filter(enterprise=enterprise, status=Status.DRAFT)
    assert drafts.count() == 2 and {p.kind for p in drafts} == {DESIGN}
    for project in drafts:
        assert project.stage_codes == ["tendering", "contract", "drawing_review"]
        review = project.drawing_review
        assert [d["name"] for d in review.designers] == ["王设计", "赵结构"]
        assert review.designers[0]["id_type"] == "1" and review.design_enterprise_credit_code
        assert not hasattr_stage(project, "registration")
        events = list(AuditEvent.objects.filter(project=project).order_by("id"))
        assert [e.action for e in events] == ["project.create"] + ["stage.create"] * 3
    # The bad row: refused by the design rule DLEGAL-2, located by sheet, row and column, in Chinese.
    [refused] = [r for r in job.results if r["outcome"] == "refused"]
    [problem] = [p for p in refused["problems"] if p["severity"] == "error"]
    assert problem["sheet"] == "设计项目" and problem["row"] == layout.FIRST_DATA_ROW + 1
    assert problem["column"] == column_letter("drawing_review", "designers", DESIGN)
    assert "王设计" in problem["message"] and problem["where"].startswith("工作表“设计项目”第7行")
    annotated = load_workbook(io.BytesIO(services.annotated_bytes(job)))["设计项目"]
    assert "王设计" in annotated[f"{problem['column']}{problem['row']}"].comment.text
    assert audit.verify_chain().intact


def hasattr_stage(project, code):
    return rules.stages_of(Project.objects.get(pk=project.pk))[code] is not None


@pytest.mark.django_db
def test_a_design_rule_refuses_a_review_after_the_cutoff_and_a_construction_contract(designer_clerk):
    enterprise = designer_clerk.membership.enterprise
    late = design_row(enterprise)
    late[("drawing_review", "completed_on")] = "2018-07-02"
    construction_contract = design_row(enterprise)
    construction_contract[("contract", "contract_type")] = "施工总包"
    job = run(designer_clerk, fill([late, construction_contract], kind=DESIGN))
    assert job.refused_count == 2
    columns = {
        p["column"]: p["message"] for r in job.results for p in r["problems"] if p["severity"] == "error"
    }
    assert "晚于2018年06月30日" in columns[column_letter("drawing_review", "completed_on", DESIGN)]
    assert "勘察" in columns[column_letter("contract", "contract_type", DESIGN)]
    assert not Project.objects.exists()


@pytest.mark.django_db
def test_reimporting_design_rows_updates_drafts_and_never_touches_submitted_ones(designer_clerk, yuzhong):
    enterprise = designer_clerk.membership.enterprise
    rows = [design_row(enterprise), design_row(enterprise)]
    first = run(designer_clerk, fill(rows, kind=DESIGN))
    assert first.created_count == 2
    again = run(designer_clerk, fill(rows, kind=DESIGN))
    assert (again.unchanged_count, again.created_count) == (2, 0)
    events = AuditEvent.objects.count()
    rows[0][("drawing_review", "designers")] += "\n张勘察 身份证 500103197806120031 无 无 勘察负责人"
    changed = run(designer_clerk, fill(rows, kind=DESIGN))
    assert (changed.updated_count, changed.unchanged_count, changed.created_count) == (1, 1, 0), [
        p["message"] for r in changed.results for p in r["problems"]
    ]
    assert AuditEvent.objects.filter(pk__gt=events, action="stage.update").count() == 1
    updated = Project.objects.get(pk=changed.results[0]["project_id"])
    assert [d["name"] for d in updated.drawing_review.designers] == ["王设计", "赵结构", "张勘察"]
    # A submitted record is reported for its row and never touched.
    Project.objects.filter(pk=updated.pk).update(status=Status.SUBMITTED)
    rows[0][("project", "name")] = "改过的名称"
    locked = run(designer_clerk, fill(rows, kind=DESIGN))
    assert locked.refused_count == 1 and "已提交" in str(locked.results[0]["problems"])
    assert Project.objects.get(pk=updated.pk).name == "批量导入设计项目"
    assert Project.objects.count() == 2


@pytest.mark.django_db
def test_design_evidence_comes_in_bulk_by_part(designer_clerk, evidence_storage):
    row = design_row(designer_clerk.membership.enterprise)
    bundle = evidence_zip(
        {
            "1/项目招投标/中标通知书.pdf": PDF_BYTES,
            "1/合同备案/设计合同.pdf": PDF_BYTES,
            "1/施工图审查合格书/合格书.pdf": PDF_BYTES,
            "1/施工图图签页（盖章）/图签.pdf": PDF_BYTES + b"cover",
            "1/施工图审查/未分类.pdf": PDF_BYTES,
            "1/项目报建/a.pdf": PDF_BYTES,
            "1/施工图审查合格书/病毒.pdf": EXE_BYTES,
        }
    )
    job = run(designer_clerk, fill([row], kind=DESIGN), evidence=bundle)
    outcomes = {r["path"]: (r["outcome"], r["message"]) for r in job.evidence_results}
    assert outcomes["1/合同备案/设计合同.pdf"][0] == "stored"
    assert outcomes["1/施工图审查合格书/合格书.pdf"][0] == "stored"
    assert outcomes["1/施工图图签页（盖章）/图签.pdf"][0] == "stored"
    assert "施工图审查合格书" in outcomes["1/施工图审查/未分类.pdf"][1]
    assert outcomes["1/项目报建/a.pdf"][0] == "refused"  # not a design record's part
    assert outcomes["1/施工图审查合格书/病毒.pdf"][0] == "refused"
    project = Project.objects.get()
    assert set(project.evidence.values_list("stage", "part")) == {
        ("tendering", ""),
        ("contract", ""),
        ("drawing_review", "certificate"),
        ("drawing_review", "cover_sheet"),
    }
    # Each part evidenced: the self-check's evidence rule (DTRUTH-3) finds nothing.
    assert not [f for f in rules.evaluate(rules.load_project(project.pk)) if f.code == "DTRUTH-3"]
    again = run(designer_clerk, fill([row], kind=DESIGN), evidence=bundle)
    assert {r["outcome"] for r in again.evidence_results} >= {"duplicate"}
    assert Evidence.objects.count() == 4


@pytest.mark.django_db
def test_design_export_then_import_changes_nothing(designer_clerk, yuzhong):
    enterprise = designer_clerk.membership.enterprise
    make_design_project(enterprise, designer_clerk, yuzhong, evidence=False)
    make_design_project(
        enterprise, designer_clerk, yuzhong, evidence=False, stages=["contract", "drawing_review"]
    )
    exported = services.export_bytes(enterprise)
    assert "设计项目" in load_workbook(io.BytesIO(exported)).sheetnames
    before = AuditEvent.objects.count()
    job = run(designer_clerk, exported)
    assert job.status == JobStatus.DONE, job.message
    assert (job.unchanged_count, job.created_count, job.updated_count, job.refused_count) == (2, 0, 0, 0), (
        job.results
    )
    assert AuditEvent.objects.count() == before + 1  # the import.start event only


@pytest.mark.django_db
def test_each_kind_is_refused_the_other_kinds_workbook_audited_with_nothing_written(designer_clerk):
    construction = make_enterprise_user(username="construction-importer")
    design_workbook = fill([design_row(designer_clerk.membership.enterprise)], kind=DESIGN)
    construction_workbook = fill([project_row(construction.membership.enterprise)])
    for user, data, words in (
        (designer_clerk, construction_workbook, "本企业补录的是设计项目"),
        (construction, design_workbook, "本企业补录的是施工项目"),
    ):
        job = run(user, data)
        assert job.status == JobStatus.FAILED and words in job.message, job.message
        refusal = AuditEvent.objects.filter(action="import.run.refused", actor=user).get()
        assert words in refusal.message
    assert not Project.objects.exists()


@pytest.mark.django_db
def test_the_blacklist_is_asked_once_per_job_not_once_per_project(designer_clerk):
    enterprise = designer_clerk.membership.enterprise
    data = fill([design_row(enterprise) for _ in range(3)], kind=DESIGN)
    with CaptureQueriesContext(connection) as queries:
        job = run(designer_clerk, data)
    assert job.created_count == 3
    assert sum("review_blacklisting" in q["sql"] for q in queries.captured_queries) == 1


# ---------------------------------------------------------------- through a real worker


@pytest.mark.django_db(transaction=True)
@needs_postgresql_and_redis
@pytest.mark.usefixtures("shared_storage")
def test_design_rows_import_through_the_worker(client, designer_clerk, celery_stack):
    enterprise = designer_clerk.membership.enterprise
    bad = design_row(enterprise)
    bad[("contract", "amount")] = "abc"
    worker = celery_stack.worker()
    client.force_login(designer_clerk)
    client.post(
        reverse("imports:home"),
        {"workbook": SimpleUploadedFile("设计.xlsx", fill([design_row(enterprise), bad], kind=DESIGN))},
    )
    job = ImportJob.objects.get()
    wait_for(
        lambda: ImportJob.objects.get(pk=job.pk).status == JobStatus.DONE,
        timeout=60,
        what="the design import",
        logs=[worker],
    )
    job.refresh_from_db()
    assert (job.created_count, job.refused_count) == (1, 1)
    project = Project.objects.get(enterprise=enterprise)
    assert project.kind == DESIGN and len(project.drawing_review.designers) == 2
