"""The bulk import, in process (services.run_job without Celery): reading, checking, saving, re-importing.

The same import through a real worker on PostgreSQL and Redis, the worker killed mid-way: tests/test_imports_worker.py.
"""

import datetime
import io
import re
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import load_workbook

from imports import layout, reading, services
from imports.models import ImportJob, JobStatus
from projects import audit, rules
from projects.audit import Actor
from projects.models import AuditEvent, Evidence, Notification, Project, Status
from tests.builders import EXE_BYTES, PDF_BYTES, make_enterprise_user, make_project
from tests.import_builders import column_letter, fill, project_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def importer(authorities, open_windows):
    return make_enterprise_user(username="importer")


@pytest.fixture
def yz(authorities):
    return authorities["500103"]


def run(user, data, *, name="导入.xlsx", evidence=None):
    job = services.start_import(
        actor=Actor(user=user),
        workbook=SimpleUploadedFile(name, data),
        evidence_zip=SimpleUploadedFile("材料.zip", evidence) if evidence else None,
    )
    return services.run_job(job.pk)


def problems_of(job):
    return [
        (p["row"], p["column"], p["message"])
        for r in job.results
        for p in r["problems"]
        if p["severity"] == "error"
    ]


def test_the_template_has_required_marks_notes_dropdowns_an_example_and_help(importer):
    workbook = load_workbook(io.BytesIO(services.template_bytes()))
    assert workbook.sheetnames[:2] == [layout.HELP_SHEET, layout.SHEET]
    sheet = workbook[layout.SHEET]
    headers = [c.value for c in sheet[layout.HEADER_ROW]]
    assert headers[0] == "序号"
    assert "项目名称（必填）" in headers
    assert "项目报建·报建编号（必填）" in headers
    assert sheet.cell(layout.NOTES_ROW, 1).value == "格式说明"
    assert sheet.cell(layout.EXAMPLE_ROW, 1).value == "示例"
    assert sheet.data_validations.dataValidation  # drop-downs
    # The template's example row is not imported: an unfilled template imports nothing.
    sheet_read = reading.read_workbook(services.template_bytes(), "模板.xlsx")
    assert sheet_read.rows == []


def test_it_imports_good_rows_as_drafts_and_refuses_a_bad_row_with_its_cell(importer):
    enterprise = importer.membership.enterprise
    bad = project_row(enterprise)
    bad[("contract", "contractor_credit_code")] = bad[("contract", "contractor_credit_code")][:-1] + "0"
    data = fill([project_row(enterprise), bad, project_row(enterprise)])
    job = run(importer, data)
    assert job.status == JobStatus.DONE, job.message
    assert (job.created_count, job.refused_count) == (2, 1)
    assert Project.objects.filter(enterprise=enterprise, status=Status.DRAFT).count() == 2
    [(row, column, message)] = [p for p in problems_of(job) if p[1]]
    assert row == layout.FIRST_DATA_ROW + 1
    assert column == column_letter("contract", "contractor_credit_code")
    assert "统一社会信用代码" in message
    # Written through the services: audited.
    assert AuditEvent.objects.filter(action="project.create").count() == 2
    assert AuditEvent.objects.filter(action="stage.create").count() == 12
    # Each project's seven events appended under one lock of the chain (audit.record_many): the chain verifies,
    # each event records who, from where and every field, in order.
    assert audit.verify_chain().intact
    for project in Project.objects.filter(enterprise=enterprise):
        events = list(AuditEvent.objects.filter(project=project).order_by("id"))
        assert [e.action for e in events] == ["project.create"] + ["stage.create"] * 6
        assert all(e.actor == importer and e.organisation == enterprise.name for e in events)
        assert events[0].changes["name"] == [None, project.name]
        assert events[1].message == "项目报建" and events[1].changes["registration_number"][1]
    # Annotated copy: the bad cell commented.
    annotated = load_workbook(io.BytesIO(services.annotated_bytes(job)))[layout.SHEET]
    cell = annotated[f"{column}{row}"]
    assert cell.comment is not None and "统一社会信用代码" in cell.comment.text
    # A worker stopped after the job was done and before the copy was stored: the download makes it from the results.
    ImportJob.objects.filter(pk=job.pk).update(annotated="")
    job.refresh_from_db()
    remade = load_workbook(io.BytesIO(services.annotated_bytes(job)))[layout.SHEET]
    assert "统一社会信用代码" in remade[f"{column}{row}"].comment.text
    assert remade.cell(row, remade.max_column).value == "未导入"
    assert job.annotated
    assert Notification.objects.filter(recipient=importer, title__startswith="批量导入已完成").count() == 1


def test_it_reads_real_workbooks_tolerantly(importer):
    enterprise = importer.membership.enterprise
    first = project_row(enterprise)
    first[("registration", "registered_on")] = 42430  # Excel serial: 2016-03-01
    first[("tendering", "awarded_on")] = "2016/4/15"
    first[("contract", "signed_on")] = "2016年5月10日"
    first[("drawing_review", "completed_on")] = "２０１６－０６－２０"  # full-width digits
    first[("tendering", "award_amount")] = "12,345,678.00"
    first[("contract", "amount")] = "１２３４５６７８"
    first[("permit", "contract_amount")] = 12345678
    first[("registration", "owner_name")] = "\u3000重庆市渝中区城市建设投资有限公司 "
    data = fill([first, {}, project_row(enterprise)])  # a blank row between
    job = run(importer, data)
    assert job.status == JobStatus.DONE, job.message
    assert problems_of(job) == []
    assert job.created_count == 2
    project = Project.objects.get(pk=job.results[0]["project_id"])
    assert project.registration.registered_on == datetime.date(2016, 3, 1)
    assert project.tendering.awarded_on == datetime.date(2016, 4, 15)
    assert project.contract.signed_on == datetime.date(2016, 5, 10)
    assert project.drawing_review.completed_on == datetime.date(2016, 6, 20)
    assert project.tendering.award_amount == Decimal("12345678.00")
    assert project.contract.amount == Decimal("12345678")
    assert project.registration.owner_name == "重庆市渝中区城市建设投资有限公司"
    assert project.total_area == Decimal("8888.00")


def with_cached_values(data: bytes, cached: dict) -> bytes:
    """The workbook with the cached value Excel would have stored beside each formula ({cell: (value, type)}).

    openpyxl writes a formula cell as `<c r="AB6"><f>…</f><v /></c>`, with no cached value, and never computes
    one; Excel writes the last computed value into `<v>` (and `t="str"` for text). This rewrites those cells of
    the import sheet's XML in the zip, so the workbook is what Excel would save."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "xl/worksheets/sheet2.xml":  # 说明 is sheet1, 补录项目 sheet2
                text = content.decode()
                for ref, (value, kind) in cached.items():
                    pattern = re.compile(rf'<c r="{ref}"([^>]*)><f>(.*?)</f><v\s*/>')
                    assert pattern.search(text), ref
                    type_attribute = ' t="str"' if kind == "str" else ""
                    text = pattern.sub(rf'<c r="{ref}"\1{type_attribute}><f>\2</f><v>{value}</v>', text)
                content = text.encode()
            target.writestr(item, content)
    return out.getvalue()


def test_a_formula_is_read_as_its_cached_value(importer):
    enterprise = importer.membership.enterprise
    row = project_row(enterprise)
    row[("tendering", "award_amount")] = "=1000*12345.6789"  # an amount computed in the sheet
    row[("contract", "signed_on")] = "=DATE(2016,5,10)"  # a date computed in a date-formatted column
    row[("registration", "owner_name")] = '=CONCATENATE("重庆市渝中区","城市建设投资有限公司")'
    data = fill([row])
    first = layout.FIRST_DATA_ROW
    amount = f"{column_letter('tendering', 'award_amount')}{first}"
    signed = f"{column_letter('contract', 'signed_on')}{first}"
    owner = f"{column_letter('registration', 'owner_name')}{first}"
    data = with_cached_values(
        data,
        {
            amount: ("12345678.9", "n"),
            signed: ("42500", "n"),
            owner: ("重庆市渝中区城市建设投资有限公司", "str"),
        },
    )
    # The fixture is what Excel saves: openpyxl reads the formula back, and with data_only its cached value.
    assert load_workbook(io.BytesIO(data))[layout.SHEET][amount].value == "=1000*12345.6789"
    assert load_workbook(io.BytesIO(data), data_only=True)[layout.SHEET][amount].value == 12345678.9

    job = run(importer, data)
    assert job.status == JobStatus.DONE, job.message
    assert problems_of(job) == []
    project = Project.objects.get(pk=job.results[0]["project_id"])
    assert project.tendering.award_amount == Decimal("12345678.90")
    assert project.contract.signed_on == datetime.date(2016, 5, 10)  # serial 42500
    assert project.registration.owner_name == "重庆市渝中区城市建设投资有限公司"


def test_a_formula_without_a_cached_value_is_a_blank_cell(importer):
    """A workbook saved by a program that computes nothing (openpyxl itself): the formula is never evaluated by
    the import; its cell reads as blank, so a required field is reported missing, not filled with the formula."""
    row = project_row(importer.membership.enterprise)
    row[(rules.PROJECT, "name")] = '=CONCATENATE("某","项目")'
    job = run(importer, fill([row]))
    [(_row, column, message)] = problems_of(job)
    assert column == column_letter(rules.PROJECT, "name")
    assert "项目名称" in message


def test_reimport_updates_the_draft_and_never_duplicates(importer):
    enterprise = importer.membership.enterprise
    rows = [project_row(enterprise), project_row(enterprise)]
    first = run(importer, fill(rows))
    assert first.created_count == 2
    again = run(importer, fill(rows))
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 2)
    rows[0][(rules.PROJECT, "name")] = "改过名字的项目"
    third = run(importer, fill(rows))
    assert (third.created_count, third.updated_count, third.unchanged_count) == (0, 1, 1)
    assert Project.objects.filter(enterprise=enterprise).count() == 2
    assert Project.objects.filter(name="改过名字的项目").count() == 1


def test_a_submitted_record_is_reported_and_untouched(importer, yz):
    enterprise = importer.membership.enterprise
    submitted = make_project(enterprise, importer, yz, status=Status.SUBMITTED)
    row = project_row(enterprise)
    row[(rules.PROJECT, "project_number")] = submitted.project_number
    row[(rules.PROJECT, "name")] = "不应写入"
    job = run(importer, fill([row]))
    assert job.refused_count == 1
    assert "不能通过导入修改" in problems_of(job)[0][2]
    submitted.refresh_from_db()
    assert submitted.name != "不应写入"


def test_another_enterprises_project_number_is_refused(importer, yz):
    other = make_enterprise_user(username="other-enterprise")
    theirs = make_project(other.membership.enterprise, other, yz)
    row = project_row(importer.membership.enterprise)
    row[(rules.PROJECT, "project_number")] = theirs.project_number
    job = run(importer, fill([row]))
    assert job.refused_count == 1
    assert "其他企业" in problems_of(job)[0][2]


@pytest.mark.parametrize(
    "field, value, words",
    [
        (("tendering", "award_amount"), "abc", "不是数字"),
        (("tendering", "awarded_on"), "2016-02-30", "不是存在的日期"),
        (("contract", "signed_on"), "2015-01-01", "早于"),
        ((rules.PROJECT, "is_completed"), "", "是"),
        ((rules.PROJECT, "project_type"), "房屋", "下拉列表"),
    ],
)
def test_a_bad_cell_refuses_its_project_with_a_chinese_message(importer, field, value, words):
    row = project_row(importer.membership.enterprise)
    row[field] = value
    job = run(importer, fill([row]))
    assert job.refused_count == 1 and job.created_count == 0
    assert any(words in message for _r, _c, message in problems_of(job)), problems_of(job)
    assert not Project.objects.exists()


def workbook_refusal(importer, data, name="导入.xlsx"):
    job = run(importer, data, name=name)
    assert job.status == JobStatus.FAILED
    assert not Project.objects.exists()
    return job.message


def test_wrong_files_get_a_clear_message(importer):
    assert ".xls" in workbook_refusal(importer, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "旧.xls")
    assert ".csv" in workbook_refusal(importer, "序号,项目名称\n1,测试\n".encode(), "数据.csv")
    assert "改了扩展名" in workbook_refusal(importer, PDF_BYTES, "改名.xlsx")


def test_a_wrong_header_or_a_missing_sheet_is_refused(importer):
    workbook = load_workbook(io.BytesIO(services.template_bytes()))
    workbook[layout.SHEET].cell(layout.HEADER_ROW, 3, "随便写的列")
    out = io.BytesIO()
    workbook.save(out)
    assert "表头与模板不符" in workbook_refusal(importer, out.getvalue())
    workbook[layout.SHEET].title = "Sheet1"
    out = io.BytesIO()
    workbook.save(out)
    assert "没有名为“补录项目”的工作表" in workbook_refusal(importer, out.getvalue())


def test_a_decompression_bomb_is_refused_before_it_is_read(importer, settings):
    settings.IMPORT_MAX_UNCOMPRESSED_BYTES = 5 * 1024 * 1024
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        bomb.writestr("xl/workbook.xml", "<workbook/>")
        bomb.writestr("xl/worksheets/sheet1.xml", b"\0" * (20 * 1024 * 1024))
    assert "压缩炸弹" in workbook_refusal(importer, out.getvalue())


def test_a_sheet_of_absurd_dimensions_is_refused(importer, settings):
    settings.IMPORT_MAX_ROWS = 3
    rows = [project_row(importer.membership.enterprise) for _ in range(4)]
    assert "最多导入3个项目" in workbook_refusal(importer, fill(rows))


def evidence_zip(entries) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, content in entries.items():
            bundle.writestr(name, content)
    return out.getvalue()


def test_evidence_comes_in_bulk_from_a_zip_checked_file_by_file(importer, evidence_storage):
    row = project_row(importer.membership.enterprise)
    bundle = evidence_zip(
        {
            "1/项目报建/立项批文.pdf": PDF_BYTES,
            "1/施工许可/许可证.pdf": EXE_BYTES,
            "../../etc/passwd": b"x",
            "1/不存在的环节/a.pdf": PDF_BYTES,
            "9/项目报建/a.pdf": PDF_BYTES,
        }
    )
    job = run(importer, fill([row]), evidence=bundle)
    outcomes = {r["path"]: r["outcome"] for r in job.evidence_results}
    assert outcomes == {
        "1/项目报建/立项批文.pdf": "stored",
        "1/施工许可/许可证.pdf": "refused",
        "../../etc/passwd": "refused",
        "1/不存在的环节/a.pdf": "refused",
        "9/项目报建/a.pdf": "refused",
    }
    assert Evidence.objects.filter(stage="registration").count() == 1
    # Re-run: the same file is not stored twice.
    again = run(importer, fill([row]), evidence=bundle)
    assert {r["path"]: r["outcome"] for r in again.evidence_results}["1/项目报建/立项批文.pdf"] == "duplicate"
    assert Evidence.objects.filter(stage="registration").count() == 1


def test_a_job_run_again_duplicates_nothing(importer):
    rows = [project_row(importer.membership.enterprise) for _ in range(3)]
    job = services.start_import(actor=Actor(user=importer), workbook=SimpleUploadedFile("a.xlsx", fill(rows)))
    services.run_job(job.pk)
    # As if the worker died before marking the job finished: the task is delivered again.
    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)
    assert services.run_job(job.pk).attempts == 1  # its heartbeat is fresh: another worker may be at it
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - datetime.timedelta(hours=1))
    assert list(services.stalled_jobs()) == [job]
    rerun = services.run_job(job.pk)
    assert rerun.status == JobStatus.DONE and rerun.attempts == 2
    assert Project.objects.count() == 3
    assert rerun.unchanged_count == 3


def test_export_then_import_changes_nothing(importer, yz):
    enterprise = importer.membership.enterprise
    make_project(enterprise, importer, yz)
    make_project(enterprise, importer, yz)
    before = AuditEvent.objects.count()
    job = run(importer, services.export_bytes(enterprise))
    assert job.status == JobStatus.DONE, job.message
    assert (job.unchanged_count, job.created_count, job.updated_count, job.refused_count) == (2, 0, 0, 0), (
        job.results
    )
    assert AuditEvent.objects.count() == before + 1  # the import.start event only


def test_a_run_counts_serials_in_memory_and_draws_again_a_number_taken_meanwhile(importer, yz):
    from projects import services as project_services
    from projects.models import ProjectType

    enterprise = importer.membership.enterprise
    numbers = project_services.ProjectNumbers()
    today = timezone.localdate()
    first = numbers("500103", today)
    prefix, serial = first[:-4], int(first[-4:])
    assert numbers("500103", today) == f"{prefix}{serial + 1:04d}"  # counted on, not read again
    make_project(enterprise, importer, yz, project_number=f"{prefix}{serial + 2:04d}")  # another writer
    project = Project(
        enterprise=enterprise,
        authority=yz,
        county_code="500103",
        name="号码测试工程",
        address="重庆市渝中区民族路3号",
        project_type=ProjectType.BUILDING_GENERAL,
    )
    created = project_services.create_checked_project(
        actor=Actor(user=importer), project=project, stages={}, numbers=numbers
    )
    assert created.project_number == f"{prefix}{serial + 3:04d}"  # the taken one refused, read afresh
