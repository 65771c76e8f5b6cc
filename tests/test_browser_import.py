"""The clerk's journeys in headless Chromium: the bulk import (template downloaded, three rows filled with
openpyxl, one wrong; uploaded; the progress bar reaches 100% without a reload; two drafts and the refused row
with its cell), and a stage filled in with a file chosen before saving — every typed value still there."""

import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from imports import layout, services
from imports.models import ImportJob
from projects import rules
from projects.models import Evidence, Project, RegistrationStage
from tests.builders import PDF_BYTES, TEST_PASSWORD, make_enterprise_user, make_project
from tests.import_builders import column_letter, fill, project_row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, username):
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("我的补录项目")


def test_it_imports_a_workbook_and_shows_progress_and_the_refused_cell(page, authorities, open_windows):
    user = make_enterprise_user(username="bulk-clerk")
    enterprise = user.membership.enterprise
    log_in(page, "bulk-clerk")
    page.click("#import-link")
    with page.expect_download() as download:
        page.click("#template-link")
    template = open(download.value.path(), "rb").read()
    assert load_workbook(io.BytesIO(template)).sheetnames[:2] == [layout.HELP_SHEET, layout.SHEET]

    bad = project_row(enterprise)
    bad[("tendering", "award_amount")] = "abc"
    workbook = fill([project_row(enterprise), bad, project_row(enterprise)], template=template)
    page.set_input_files(
        "#id_workbook",
        files=[{"name": "我的项目.xlsx", "mimeType": "application/octet-stream", "buffer": workbook}],
    )
    page.click("button.primary")
    expect(page.locator("h1")).to_contain_text("批量导入：我的项目.xlsx")
    expect(page.locator("#import-bar")).to_have_attribute("value", "0")

    # The worker's part, in this process (the page only polls the job row): tests/test_imports_worker.py runs
    # the same through a real Celery worker.
    services.run_job(ImportJob.objects.get().pk)

    expect(page.locator("#count-created")).to_have_text("2", timeout=15000)  # the script reloaded the page
    expect(page.locator("#import-bar")).to_have_attribute("value", "100")
    refused = page.locator("#refused-rows")
    cell = column_letter("tendering", "award_amount")
    expect(refused).to_contain_text(f"第{layout.FIRST_DATA_ROW + 1}行{cell}列")
    expect(refused).to_contain_text("不是数字")
    expect(page.locator("#saved-rows tbody tr")).to_have_count(2)
    assert Project.objects.filter(enterprise=enterprise, status="draft").count() == 2
    with page.expect_download() as annotated:
        page.click("#annotated-link")
    sheet = load_workbook(io.BytesIO(open(annotated.value.path(), "rb").read()))[layout.SHEET]
    assert "不是数字" in sheet[f"{cell}{layout.FIRST_DATA_ROW + 1}"].comment.text
    assert rules.PROJECT  # (the layout's sections are the rule engine's)


def test_a_file_chosen_before_saving_keeps_every_typed_value(page, authorities, open_windows):
    user = make_enterprise_user(username="stage-clerk")
    project = make_project(user.membership.enterprise, user, authorities["500103"], stages=[])
    log_in(page, "stage-clerk")
    page.goto(f"/projects/{project.pk}/stages/registration/")
    typed = {
        "#id_registration_number": "BJ-BROWSER-0001",
        "#id_registered_on": "2016-03-01",
        "#id_owner_name": "重庆市某建设单位",
        "#id_approval_number": "渝发改〔2016〕1号",
        "#id_scale": "地上18层，地下2层",
    }
    for selector, value in typed.items():
        page.fill(selector, value)
    page.set_input_files(
        "#id_file", files=[{"name": "立项批文.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}]
    )
    page.click("#upload-evidence")
    expect(page.locator(".messages")).to_contain_text("已上传“立项批文.pdf”")
    for selector, value in typed.items():
        expect(page.locator(selector)).to_have_value(value)
    stage = RegistrationStage.objects.get(project=project)
    assert stage.registration_number == "BJ-BROWSER-0001" and stage.scale == "地上18层，地下2层"
    assert Evidence.objects.filter(project=project, stage="registration").count() == 1
