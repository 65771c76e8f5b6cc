"""The enterprise's journey in real headless Chromium: log in, backfill six stages, attach evidence, self-check,
fix what the self-check finds, submit, and find the record locked."""

import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from projects.models import AuditEvent, Project, Status
from tests.builders import PDF_BYTES, TEST_PASSWORD, make_enterprise_user, valid_stage_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STAGES = ["registration", "tendering", "contract", "drawing_review", "permit", "completion"]


def fill_form(page, data: dict):
    """Fill a Django form by its ids (id_<field>), whatever the widget."""
    for name, value in data.items():
        field = page.locator(f"#id_{name}")
        if value is None:
            continue
        tag = field.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
        if tag.startswith("select"):
            field.select_option(str(value).lower() if isinstance(value, bool) else str(value))
        elif tag == "input:checkbox":
            field.set_checked(bool(value))
        elif isinstance(value, datetime.date):
            field.fill(value.isoformat())
        elif isinstance(value, Decimal | int | float):
            field.fill(str(value))
        else:
            field.fill(value)


def upload_pdf(page, name):
    page.set_input_files(
        "#id_file", files=[{"name": name, "mimeType": "application/pdf", "buffer": PDF_BYTES}]
    )
    page.click("#upload-evidence")
    expect(page.locator(".messages")).to_contain_text(f"已上传“{name}”")


def test_it_backfills_six_stages_fixes_a_self_check_error_and_submits(
    page, live_server, authorities, open_windows
):
    user = make_enterprise_user(username="clerk")
    enterprise = user.membership.enterprise
    stage_data = valid_stage_data(enterprise)

    page.goto("/accounts/login/")
    page.fill("#id_username", "clerk")
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("我的补录项目")

    page.click("text=新建补录项目")
    page.fill("#id_name", "渝中区示范综合楼工程")
    page.fill("#id_address", "重庆市渝中区解放碑街道民族路1号")
    page.select_option("#id_authority", label="渝中区")
    page.select_option("#id_project_type", "building_general")
    # Yes/no questions are required choices (是 is the first radio, 否 the second): none is answered for the clerk.
    page.check("#id_is_classified_1")
    page.check("#id_is_completed_0")
    page.check("#id_already_in_national_library_1")
    completion_area = stage_data["completion"].get("actual_area")
    page.fill("#id_total_area", str(completion_area or "12000"))
    page.click("button.primary")
    expect(page.locator(".messages")).to_contain_text("已创建补录项目")
    project = Project.objects.get(enterprise=enterprise)
    assert len(project.project_number) == 16 and project.project_number.startswith("500103")

    # Six stages, each with its evidence but the last: the self-check must catch the missing one.
    for code in STAGES:
        page.goto(f"/projects/{project.pk}/stages/{code}/")
        fill_form(page, stage_data[code])
        page.click("#save-stage")
        expect(page.locator(".messages")).to_contain_text("环节已保存")
        if code != "completion":
            upload_pdf(page, f"{code}-证明材料.pdf")

    page.goto(f"/projects/{project.pk}/check/")
    missing = page.locator('[data-rule="TRUTH-3"]')
    expect(missing).to_have_count(1)
    expect(missing).to_contain_text("“竣工验收备案”环节尚未上传证明材料")
    expect(page.locator("#submit-project")).to_have_count(0)

    missing.locator("text=去上传").click()
    upload_pdf(page, "竣工验收备案表.pdf")

    page.goto(f"/projects/{project.pk}/check/")
    expect(page.locator("#check-summary")).to_contain_text("0个错误")
    page.click("#submit-project")
    expect(page.locator(".messages")).to_contain_text("已提交审核")
    expect(page.locator(".locked")).to_contain_text("企业不能修改")

    project.refresh_from_db()
    assert project.status == Status.SUBMITTED
    assert AuditEvent.objects.filter(project=project, action="project.submit", actor=user).exists()

    # Locked: the stage form is read-only and offers no save or upload.
    page.goto(f"/projects/{project.pk}/stages/permit/")
    expect(page.locator("#save-stage")).to_have_count(0)
    expect(page.locator("#upload-evidence")).to_have_count(0)
    expect(page.locator("#id_permit_number")).to_be_disabled()
