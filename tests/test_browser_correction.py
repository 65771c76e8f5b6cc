"""The enterprise in real headless Chromium: opens its record in the national library, files a correction request
through the form (an item, its reason, a PDF) and finds it listed as 待区县核查; the district then sees it."""

import pytest
from playwright.sync_api import expect

from corrections.models import CorrectionRequest, CorrectionStatus
from projects.models import Status
from publicity import snapshots
from publicity.models import LibraryEntry, Snapshot
from tests.builders import PDF_BYTES, TEST_PASSWORD, make_enterprise_user, make_project, make_reviewer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def library_record(clerk, authority, **fields):
    """A record that entered the national library as version 1: what approval, the notice, the sweep and the
    delivery leave behind (tests/test_corrections.py takes that path; here only the result is needed)."""
    project = make_project(
        clerk.membership.enterprise, clerk, authority, status=Status.IN_NATIONAL_LIBRARY, **fields
    )
    content = snapshots.build_content(project)
    snapshot = Snapshot.objects.create(project=project, version=1, content=content, reason="审核通过")
    LibraryEntry.objects.create(
        project=project,
        national_id=f"NP-{project.project_number}",
        snapshot=snapshot,
        project_number=project.project_number,
        project_name=content["project"]["name"],
        enterprise_name=content["enterprise"]["name"],
        authority=authority,
        project_type=content["project"]["project_type"],
        document_numbers=snapshots.document_numbers(content),
    )
    return project


def log_in(page, username):
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")


def test_the_enterprise_files_a_correction_request_with_a_pdf_and_sees_it_listed(
    page, live_server, authorities
):
    yuzhong = authorities["500103"]
    clerk = make_enterprise_user(username="clerk")
    make_reviewer(yuzhong, username="yz-reviewer")
    project = library_record(clerk, yuzhong, name="渝中区解放碑商务楼")

    log_in(page, "clerk")
    expect(page.locator("h1")).to_have_text("我的补录项目")
    page.click("text=渝中区解放碑商务楼")
    expect(page.locator(".status").first).to_have_text("已入全国平台项目库")
    page.click("#request-correction")

    expect(page.locator("h1")).to_contain_text("申请更正")
    expect(page.locator("#current-values")).to_contain_text("重庆市勘察院")
    page.fill("#id_statement", "施工许可环节的勘察单位名称录入有误，申请更正。")
    page.select_option("#id_items-0-target", "permit.survey_enterprise_name")
    page.fill("#id_items-0-proposed_value", "重庆市勘察设计研究院")
    page.fill("#id_items-0-reason", "勘察单位名称录入时漏字，以勘察合同为准。")
    page.set_input_files(
        "#id_evidence", files=[{"name": "勘察合同.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}]
    )
    page.click("#file-correction")

    expect(page.locator(".messages")).to_contain_text("已提交更正申请")
    expect(page.locator("#correction-status")).to_have_text("待区县核查")
    expect(page.locator("#correction-items")).to_contain_text("重庆市勘察设计研究院")
    expect(page.locator("#correction-evidence")).to_contain_text("勘察合同.pdf")
    request = CorrectionRequest.objects.get(project=project)
    assert request.status == CorrectionStatus.FILED
    assert request.evidence.get().content_type == "application/pdf"

    page.click("#corrections-link")
    row = page.locator(f'#correction-requests tr[data-reference="{request.reference}"]')
    expect(row).to_contain_text("渝中区解放碑商务楼")
    expect(row).to_contain_text("待区县核查")

    # The evidence opens for the enterprise (served after the permission check).
    page.goto(f"/corrections/{request.reference}/")
    with page.expect_popup() as popup:
        page.click("#correction-evidence a")
    assert popup.value.url.endswith(f"/corrections/{request.reference}/evidence/{request.evidence.get().pk}/")

    # The district finds it in its own list, with the opinion form.
    page.click("text=退出登录")
    log_in(page, "yz-reviewer")
    page.goto("/corrections/?status=filed")
    page.click(f"text={request.reference}")
    expect(page.locator("#give-opinion")).to_be_visible()
    expect(page.locator("#correction-items")).to_contain_text("重庆市勘察院")
