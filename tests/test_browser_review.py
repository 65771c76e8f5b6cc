"""The review journey in real headless Chromium: a reviewer finds a submitted record in the console by its permit
number and returns it with a comment pinned to a field; the enterprise sees the comment beside that field, fixes
it and resubmits; the reviewer sees what changed and approves."""

import pytest
from playwright.sync_api import expect

from projects import services
from projects.audit import Actor
from projects.models import Project, Status
from review.models import Decision, ReviewDecision
from tests.builders import TEST_PASSWORD, make_enterprise_user, make_project, make_reviewer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """A browser that asks for Chinese, as the authorities' browsers do: the admin's own words follow it."""
    return {**browser_context_args, "locale": "zh-CN"}


NEW_LICENCE = "（渝）JZ安许证字〔2015〕000777"


def log_in(page, url, username):
    page.goto(url)
    page.fill("#id_username", username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("[type=submit]")


def test_it_returns_a_record_with_a_field_comment_and_approves_the_fixed_resubmission(
    page, browser, browser_context_args, live_server, authorities, open_windows
):
    clerk = make_enterprise_user(username="clerk")
    reviewer = make_reviewer(authorities["500103"], username="yz-reviewer")
    project = make_project(
        clerk.membership.enterprise, clerk, authorities["500103"], name="渝中区解放碑商务楼"
    )
    services.submit_project(actor=Actor(user=clerk), project=project)
    permit_number = project.permit.permit_number
    old_licence = project.permit.safety_licence_number

    # The reviewer finds the record by its permit number and returns it, pinning the comment to a permit field.
    log_in(page, "/admin/login/", "yz-reviewer")
    expect(page.locator("#site-name")).to_contain_text("审核管理")
    expect(page.locator("#content h1")).to_have_text("审核管理")
    page.goto("/admin/projects/project/")
    expect(page.locator("h1")).to_have_text("补录项目审核")
    page.fill("#searchbar", permit_number)
    expect(page.locator("#changelist-search [type=submit]")).to_have_value("搜索")
    page.click("#changelist-search [type=submit]")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    page.click(f"#result_list >> text={project.name}")

    expect(page.locator("#stage-permit")).to_contain_text(permit_number)
    expect(page.locator("#findings h2")).to_contain_text("0个错误")
    page.select_option("#return-form select[name=target_1]", "permit:safety_licence_number")
    page.fill("#return-form textarea[name=text_1]", "安全生产许可证编号与证书原件不符，请核对。")
    page.click("#return-button")
    expect(page.locator(".messagelist")).to_contain_text("退回修改")
    expect(page.locator("#decisions")).to_contain_text("退回修改")
    assert Project.objects.get(pk=project.pk).status == Status.RETURNED

    # The enterprise sees the comment beside the field, fixes it and resubmits.
    context = browser.new_context(**browser_context_args)
    clerk_page = context.new_page()
    log_in(clerk_page, "/accounts/login/", "clerk")
    expect(clerk_page.locator("#inbox-link")).to_contain_text("站内通知")
    clerk_page.goto(f"/projects/{project.pk}/stages/permit/")
    expect(clerk_page.locator(".review-comment")).to_contain_text("安全生产许可证编号与证书原件不符")
    clerk_page.fill("#id_safety_licence_number", NEW_LICENCE)
    clerk_page.click("#save-stage")
    expect(clerk_page.locator(".messages")).to_contain_text("环节已保存")
    clerk_page.goto(f"/projects/{project.pk}/check/")
    clerk_page.click("#submit-project")
    expect(clerk_page.locator(".messages")).to_contain_text("已提交审核")
    context.close()

    # The reviewer sees exactly what changed, and approves.
    page.reload()
    changes = page.locator("#changes")
    expect(changes).to_contain_text("第2次提交")
    expect(changes.locator("tr.change")).to_have_count(1)
    expect(changes).to_contain_text(old_licence)
    expect(changes).to_contain_text(NEW_LICENCE)
    page.fill("#approve-form textarea[name=comment]", "已核对，材料齐全。")
    page.click("#approve-button")
    expect(page.locator(".messagelist")).to_contain_text("审核通过")
    expect(page.locator("#approve-form")).to_have_count(0)

    project.refresh_from_db()
    assert project.status == Status.IN_NOTICE
    assert list(
        ReviewDecision.objects.filter(project=project)
        .order_by("decided_at", "id")
        .values_list("decision", "reviewer")
    ) == [
        (Decision.RETURN, reviewer.pk),
        (Decision.APPROVE, reviewer.pk),
    ]
