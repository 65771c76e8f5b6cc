"""A spot check that cannot be wasted, in real headless Chromium at 1366 px: the authorities come in groups (区, 县,
开发区) each with its select-all; the form counts, live, the records its conditions match (none for the zones, three
for 渝中区); the campaign page repeats the count before the draw; a double click on 抽取样本 draws once; the
复核码 is shown and the draw is explained in plain words; the design office's queue lists the items drawn for it.
axe-core finds no serious or critical violation on the form, the campaign and the queue."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from inspections.models import SpotCheckCampaign, SpotCheckItem
from projects.models import AuditEvent, CityDepartment
from tests.builders import (
    TEST_PASSWORD,
    enter_library,
    make_city_user,
    make_enterprise_user,
    make_project,
)
from tests.test_browser_console import DESKTOP, accessibility_problems

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_city_sees_what_a_draw_would_take_and_draws_once(
    page, axe, live_server, authorities, open_windows
):
    yuzhong = authorities["500103"]
    clerk = make_enterprise_user(username="clerk")
    for n in range(3):
        enter_library(
            make_project(clerk.membership.enterprise, clerk, yuzhong, evidence=False, name=f"抽查工程{n}")
        )
    make_city_user(username="city-design", department=CityDepartment.DESIGN)
    page.set_viewport_size(DESKTOP)
    page.goto("/accounts/login/")
    page.fill("#id_username", "city-design")
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    problems = []

    page.goto("/city/spot-checks/new/")
    matching = page.locator("#matching")
    expect(matching).to_contain_text("选择区县（开发区）并填写入库期间后")
    zones = page.locator("#group-zone")
    expect(zones.locator("legend")).to_contain_text("开发区")
    zones.get_by_label("全选开发区（新区、高新区、经开区）").check()
    expect(zones.locator('input[name="authorities"]:checked')).to_have_count(5)
    expect(page.locator('#group-district input[name="authorities"]:checked')).to_have_count(0)
    today = timezone.localdate()
    page.fill("#id_period_start", (today - datetime.timedelta(days=30)).isoformat())
    page.fill("#id_period_end", today.isoformat())
    expect(matching).to_contain_text("没有符合条件的记录")  # the zones have none: seen before creating

    page.get_by_label("渝中区").check()
    expect(matching).to_contain_text("共有3条符合条件的记录")
    district_all = page.locator('#group-district input[data-select-all="district"]')
    assert district_all.evaluate("box => box.indeterminate")  # one of 26 chosen
    problems += accessibility_problems(axe, page, "spot-check-form")

    page.fill("#id_name", "2026年第四季度抽查")
    page.locator('#field-stages input[value="drawing_review"]').check()
    page.fill("#id_sample_size", "2")
    page.click("#campaign-form button[type=submit]")
    expect(page.locator("#matching")).to_contain_text("目前符合条件的记录：3条，按设定将抽取2条记录。")
    expect(page.locator(".fairness")).to_contain_text("每条记录被抽中的机会相同")
    problems += accessibility_problems(axe, page, "spot-check-campaign")

    page.locator("#draw-form button[type=submit]").dblclick()
    expect(page.locator("#seed")).to_be_visible()
    campaign = SpotCheckCampaign.objects.get()
    expect(page.locator("#seed")).to_have_text(str(campaign.seed))
    expect(page.locator("#redraw")).to_contain_text(f"用复核码{campaign.seed}重新抽取")
    assert SpotCheckItem.objects.filter(campaign=campaign).count() == 2
    assert AuditEvent.objects.filter(action="spot_check.draw").count() == 1
    assert not AuditEvent.objects.filter(
        action="spot_check.draw.refused"
    ).exists()  # the second click sent nothing
    body = page.locator("main").inner_text()
    assert "随机种子" not in body and "random" not in body

    # The design office's day starts at its queue: the drawing-review items just drawn, as a tab with its count.
    page.goto("/review/queue/")
    expect(page.locator("#tab-spot_checks")).to_have_attribute("aria-current", "page")
    expect(page.locator("#tab-spot_checks .count")).to_have_text("2")
    expect(page.locator("#queue tbody tr")).to_have_count(2)
    expect(page.locator("#queue tbody tr").first).to_contain_text("施工图审查")
    problems += accessibility_problems(axe, page, "city-queue")

    assert problems == []
