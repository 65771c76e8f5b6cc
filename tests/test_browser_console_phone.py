"""The console's lists on a phone (390 × 844) in real headless Chromium: every list of the work queue (待我审核,
更正待处理, 抽查待核查, 待分派的设计项目) and the city's design-routing page turns its rows into cards, each cell a
full-width line led by its column's name, as the public lists do (static/css/portal.css), instead of a table
squeezed to one character a line; the page itself never scrolls sideways.

Set SCREENSHOT_DIR to keep a screenshot of each page at 390 px."""

import os
from pathlib import Path

import pytest
from django.urls import reverse

from corrections.models import CorrectionStatus
from projects.models import CityDepartment, StageCode, Status
from tests.builders import (
    TEST_PASSWORD,
    make_city_user,
    make_design_enterprise_user,
    make_design_project,
    make_project,
    make_reviewer,
)
from tests.test_queue_city import items_on, records, requests_on

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def log_in(page, username):
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def card_problems(page, name, url, table) -> list[str]:
    """What is wrong with `table`'s rows as cards on the phone at `url`."""
    page.goto(url)
    problems = []
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        problems.append(f"{name}: the page is {width}px wide at 390px")
    if page.locator(f"{table} thead").is_visible():
        problems.append(f"{name}: the table's header row shows instead of cards")
    cells = page.locator(f"{table} tbody td[data-label]")
    if cells.count() == 0:
        problems.append(f"{name}: no labelled cell in {table}")
    for index in range(cells.count()):
        cell = cells.nth(index)
        box = cell.bounding_box()
        if box["width"] < 300:
            problems.append(f"{name}: cell {cell.get_attribute('data-label')} is {box['width']:.0f}px wide")
        label = cell.evaluate("td => getComputedStyle(td, '::before').content")
        if cell.get_attribute("data-label") not in label:
            problems.append(f"{name}: cell {cell.get_attribute('data-label')} shows no label ({label})")
    shots = os.environ.get("SCREENSHOT_DIR")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(shots) / f"console-phone-{name}.png"), full_page=True)
    return problems


def test_every_console_list_becomes_cards_on_a_phone(page, live_server, clerk, yuzhong, open_windows):
    reviewer = make_reviewer(yuzhong, username="phone-reviewer")
    make_project(
        clerk.membership.enterprise, clerk, yuzhong, status=Status.SUBMITTED, name="手机上审核的示范工程"
    )
    city = make_city_user(username="phone-city", department=CityDepartment.APPROVAL_CENTER)
    requests_on(records(clerk, yuzhong, 2), clerk, CorrectionStatus.AT_CITY)
    items_on(records(clerk, yuzhong, 2, start=10), city, StageCode.PERMIT, CityDepartment.APPROVAL_CENTER)
    designer = make_design_enterprise_user(username="phone-designer")
    make_design_project(designer.membership.enterprise, designer, yuzhong, status=Status.SUBMITTED)
    page.set_viewport_size(PHONE)
    queue = reverse("review:queue")

    log_in(page, reviewer.username)
    problems = card_problems(page, "todo", queue, "#queue")
    page.context.clear_cookies()
    log_in(page, city.username)
    for tab in ("corrections", "spot_checks", "design_routing"):
        problems += card_problems(page, tab, f"{queue}?tab={tab}", "#queue")
    problems += card_problems(page, "design-routing", reverse("review:design_routing"), "#routing")

    assert problems == []
