"""A reviewer's day in real headless Chromium: the work queue shows the oldest submitted record first with its
waiting days; the reviewer takes it, previews a stage's PDF beside that stage, attaches two comments by choosing
fields and returns it; the enterprise resubmits; the reviewer approves from the panel; a reject asks for its
ground and a confirmation. axe-core finds no serious or critical violation on the queue, the review page and the
history page. SCREENSHOT_DIR=… keeps 1366 px screenshots of each."""

import datetime
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from projects import services
from projects.audit import Actor
from projects.models import Project, ReviewComment, Status
from review.models import Assignment
from tests.builders import TEST_PASSWORD, make_enterprise_user, make_project, make_reviewer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 768}
BLOCKING = {"serious", "critical"}


def log_in(page, username):
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")


def accessibility_problems(axe, page, name) -> list[str]:
    problems = []
    for violation in axe.violations(page):
        if violation["impact"] in BLOCKING:
            targets = [node["target"] for node in violation["nodes"]][:3]
            problems.append(f"{name}: axe {violation['id']} ({violation['impact']}) at {targets}")
    shots = os.environ.get("SCREENSHOT_DIR")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(shots) / f"console-{name}-1366.png"), full_page=False)
    return problems


def test_a_reviewers_day(page, axe, live_server, authorities, open_windows):
    yuzhong = authorities["500103"]
    clerk = make_enterprise_user(username="clerk")
    make_reviewer(yuzhong, username="yz-reviewer")
    older = make_project(clerk.membership.enterprise, clerk, yuzhong, name="最早提交的综合楼")
    newer = make_project(clerk.membership.enterprise, clerk, yuzhong, name="较晚提交的厂房")
    for project in (older, newer):
        services.submit_project(actor=Actor(user=clerk), project=project)
    older.refresh_from_db()
    Project.objects.filter(pk=older.pk).update(submitted_at=older.submitted_at - datetime.timedelta(days=45))
    page.set_viewport_size(DESKTOP)
    problems = []

    # The day starts at the queue: the oldest record first, with the working days it has waited (overdue).
    log_in(page, "yz-reviewer")
    page.wait_for_url("**/review/queue/")
    rows = page.locator("#queue tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("最早提交的综合楼")
    expect(rows.nth(0).locator(".waited")).to_contain_text("个工作日")
    expect(rows.nth(0).locator(".overdue-mark")).to_contain_text("已超期")
    expect(page.locator("#tab-todo .count")).to_have_text("2")
    problems += accessibility_problems(axe, page, "queue")

    # Take it in one click: assigned to me, on its review page.
    rows.nth(0).get_by_role("button", name="领取并审核最早提交的综合楼").click()
    page.wait_for_url(f"**/admin/projects/project/{older.pk}/change/")
    assert Assignment.objects.get(project=older).reviewer.username == "yz-reviewer"
    expect(page.locator("#decisions-forms")).to_be_visible()

    # The stage's PDF previews beside the stage, after the permission check (the evidence view answers it).
    completion = page.locator("#stage-completion")
    completion.locator("details.evidence-preview summary").first.click()
    preview = completion.locator("details.evidence-preview object").first
    expect(preview).to_have_attribute("type", "application/pdf")
    answer = page.request.get(preview.get_attribute("data"))
    assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
    assert answer.headers["x-frame-options"] == "SAMEORIGIN"
    problems += accessibility_problems(axe, page, "review-page")

    # The decision panel stays in view while the record scrolls.
    page.locator("#stage-completion").scroll_into_view_if_needed()
    expect(page.locator("#approve-button")).to_be_in_viewport()

    # Two comments, each attached by choosing a field; then return.
    page.get_by_role("button", name="对“项目招投标·中标金额（元）”提出退回意见").click()
    page.keyboard.type("中标金额与中标通知书不一致")  # the new comment's box has the focus
    page.get_by_role("button", name="对“施工许可·施工许可证编号”提出退回意见").click()
    page.keyboard.type("施工许可证编号有误")
    expect(page.locator("#field-comments .field-comment")).to_have_count(2)
    page.click("#return-button")
    expect(page.locator(".messagelist")).to_contain_text("附2条审核意见")
    assert sorted(ReviewComment.objects.filter(project=older).values_list("stage", "field")) == [
        ("permit", "permit_number"),
        ("tendering", "award_amount"),
    ]

    # The enterprise resubmits; the reviewer approves from the panel.
    older.refresh_from_db()
    services.submit_project(actor=Actor(user=clerk), project=older)
    page.reload()
    expect(page.locator("#changes")).to_contain_text("第2次提交")
    page.fill("#approve-form textarea[name=comment]", "已核对。")
    page.click("#approve-button")
    expect(page.locator(".messagelist")).to_contain_text("审核通过")
    assert Project.objects.get(pk=older.pk).status == Status.IN_NOTICE

    # The history reads in words.
    page.goto(f"/projects/{older.pk}/history/")
    expect(page.locator("table.history")).to_contain_text(
        "退回修改：项目招投标·中标金额（元）：中标金额与中标通知书不一致"
    )
    expect(page.locator("table.history")).not_to_contain_text("review.")
    problems += accessibility_problems(axe, page, "history")

    # A reject asks for its ground and a confirmation.
    page.goto(f"/admin/projects/project/{newer.pk}/change/")
    page.select_option("#reject-form select[name=ground]", "out_of_scope")
    page.fill("#reject-form textarea[name=reason]", "项目为涉密工程，不在补录范围。")
    page.click("#reject-button")
    expect(page.locator(".messagelist")).to_contain_text("请勾选确认")
    assert Project.objects.get(pk=newer.pk).status == Status.SUBMITTED
    page.select_option("#reject-form select[name=ground]", "out_of_scope")
    page.fill("#reject-form textarea[name=reason]", "项目为涉密工程，不在补录范围。")
    page.check("#reject-form input[name=confirmed]")
    page.click("#reject-button")
    expect(page.locator(".messagelist")).to_contain_text("不予受理")
    assert Project.objects.get(pk=newer.pk).status == Status.REJECTED

    assert problems == []
