"""The design-project journey in real headless Chromium (渝建〔2018〕103号; docs/design-projects.md): a survey/design
enterprise backfills a design record with its designers and its evidence part by part, self-checks and submits;
the drawing-review agency's reviewer finds it in the work queue and returns it with a comment on the designers;
the enterprise fixes it and resubmits; the agency approves; the public notice shows it (the designers' ID numbers
hidden); after the notice it is delivered to the national platform's simulator over HTTP and enters the library."""

import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from projects.identifiers import format_designers
from projects.models import Project, Status
from publicity import services as publicity_services
from publicity.models import Notice, OutboxMessage
from tests.builders import (
    DESIGNER_ID,
    PDF_BYTES,
    TEST_PASSWORD,
    design_stage_data,
    make_agency_reviewer,
    make_design_enterprise_user,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STAGES = ["tendering", "contract", "drawing_review"]


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "zh-CN"}


def log_in(page, url, username):
    page.goto(url)
    page.fill("#id_username", username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("[type=submit]")


def fill_form(page, data: dict):
    for name, value in data.items():
        field = page.locator(f"#id_{name}")
        if value is None:
            continue
        tag = field.evaluate("e => e.tagName.toLowerCase()")
        if tag == "select":
            field.select_option(str(value).lower() if isinstance(value, bool) else str(value))
        elif isinstance(value, list):
            field.fill(format_designers(value))
        elif isinstance(value, datetime.date | Decimal | int):
            field.fill(str(value))
        else:
            field.fill(value)


def upload_pdf(page, name, part=None):
    if part:
        page.select_option("#id_evidence_part", part)
    page.set_input_files(
        "#id_file", files=[{"name": name, "mimeType": "application/pdf", "buffer": PDF_BYTES}]
    )
    page.click("#upload-evidence")
    expect(page.locator(".messages")).to_contain_text(f"已上传“{name}”")


def test_a_design_record_is_backfilled_reviewed_by_its_agency_noticed_and_entered(
    page, browser, browser_context_args, live_server, authorities, open_windows, national_platform, settings
):
    base_url, _simulator = national_platform
    from tests.simulator_process import API_KEY

    settings.NATIONAL_PLATFORM_URL, settings.NATIONAL_PLATFORM_API_KEY = base_url, API_KEY
    designer = make_design_enterprise_user(username="designer")
    make_agency_reviewer(username="agency-reviewer")
    data = design_stage_data(designer.membership.enterprise)
    lead, second = data["drawing_review"]["designers"]
    data["drawing_review"]["designers"] = [lead]  # the agency will ask for the structural lead

    # The design enterprise backfills: basic information, the three parts, evidence part by part.
    log_in(page, "/accounts/login/", "designer")
    expect(page.locator("h1")).to_have_text("我的补录项目")
    page.click("text=新建补录项目")
    page.fill("#id_name", "渝中区示范综合楼工程设计")
    page.fill("#id_address", "重庆市渝中区解放碑街道民族路1号")
    page.select_option("#id_authority", label="渝中区")
    page.select_option("#id_project_type", "building_works")
    expect(page.locator("#id_is_completed_0")).to_have_count(0)  # not asked of a design record
    page.check("#id_is_classified_1")
    page.check("#id_already_in_national_library_1")
    page.click("button.primary")
    expect(page.locator(".messages")).to_contain_text("已创建补录项目")
    project = Project.objects.get(enterprise=designer.membership.enterprise)
    assert project.kind == "design"
    expect(page.locator("#project-kind")).to_have_text("设计项目")

    for code in STAGES:
        page.goto(f"/projects/{project.pk}/stages/{code}/")
        fill_form(page, data[code])
        page.click("#save-stage")
        expect(page.locator(".messages")).to_contain_text("环节已保存")
    page.goto(f"/projects/{project.pk}/stages/permit/")
    expect(page.locator("h1, h2").first).not_to_contain_text(
        "施工许可"
    )  # a design record has no permit stage
    page.goto(f"/projects/{project.pk}/stages/tendering/")
    upload_pdf(page, "设计中标通知书.pdf")
    page.goto(f"/projects/{project.pk}/stages/contract/")
    upload_pdf(page, "设计合同.pdf")
    page.goto(f"/projects/{project.pk}/stages/drawing_review/")
    upload_pdf(page, "施工图审查合格书.pdf", part="certificate")

    page.goto(f"/projects/{project.pk}/check/")
    missing = page.locator('[data-rule="DTRUTH-3"]')
    expect(missing).to_contain_text("施工图图签页（盖章）")
    page.goto(f"/projects/{project.pk}/stages/drawing_review/")
    upload_pdf(page, "施工图图签页.pdf", part="cover_sheet")
    page.goto(f"/projects/{project.pk}/check/")
    expect(page.locator("#check-summary")).to_contain_text("0个错误")
    page.click("#submit-project")
    expect(page.locator(".messages")).to_contain_text("已提交审核")
    project.refresh_from_db()
    assert project.status == Status.SUBMITTED and project.reviewing_agency.name == "重庆市施工图审查中心"

    # The agency's reviewer finds it in the work queue and returns it with a comment on the designers.
    context = browser.new_context(**browser_context_args)
    agency = context.new_page()
    log_in(agency, "/admin/login/", "agency-reviewer")
    agency.goto("/review/queue/")
    expect(agency.locator("#queue")).to_contain_text(project.name)
    agency.click(f"#queue >> text={project.name}")
    expect(agency.locator("#stage-drawing_review")).to_contain_text("王设计")
    agency.select_option("#return-form select[name=target_1]", "drawing_review:designers")
    agency.fill("#return-form textarea[name=text_1]", "请补充结构专业负责人。")
    agency.click("#return-button")
    expect(agency.locator(".messagelist")).to_contain_text("退回修改")
    assert Project.objects.get(pk=project.pk).status == Status.RETURNED

    # The enterprise sees the comment beside the designers, adds the structural lead and resubmits.
    page.goto(f"/projects/{project.pk}/stages/drawing_review/")
    expect(page.locator(".review-comment")).to_contain_text("请补充结构专业负责人")
    page.fill("#id_designers", format_designers([lead, second]))
    page.click("#save-stage")
    expect(page.locator(".messages")).to_contain_text("环节已保存")
    page.goto(f"/projects/{project.pk}/check/")
    page.click("#submit-project")
    expect(page.locator(".messages")).to_contain_text("已提交审核")

    # The agency sees the change and approves.
    agency.reload()
    expect(agency.locator("#changes")).to_contain_text("赵结构")
    agency.fill("#approve-form textarea[name=comment]", "与审查合格书及存档图纸一致。")
    agency.click("#approve-button")
    expect(agency.locator(".messagelist")).to_contain_text("审核通过")
    context.close()

    # The public notice shows it, without the designers' ID numbers.
    page.goto("/notices/")
    page.click(f"#notices >> text={project.name}")
    expect(page.locator("main")).to_contain_text("赵结构（一级注册结构工程师，专业负责人）")
    assert DESIGNER_ID not in page.content()

    # After the notice: the sweep closes it, the delivery goes to the simulator, the record enters the library.
    notice = Notice.objects.get(project=project)
    publicity_services.close_expired_notices(now=notice.ends_at + datetime.timedelta(seconds=1))
    message = OutboxMessage.objects.get(project=project)
    assert publicity_services.deliver(message.pk) in ("delivered", "skipped")
    project.refresh_from_db()
    assert project.status == Status.IN_NATIONAL_LIBRARY
    page.goto("/library/")
    expect(page.locator("#library")).to_contain_text(project.name)
