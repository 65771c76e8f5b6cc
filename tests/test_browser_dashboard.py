"""The city's dashboard in real headless Chromium: a city user signs in, reads the table of 43 authorities and its
SVG charts, finds the district due for a circular and why, and downloads the Excel export of the same table."""

import io
import os
from pathlib import Path

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from inspections.models import Finding
from projects.models import Status
from review.models import Decision
from tests.builders import TEST_PASSWORD
from tests.test_figures import DEFAULTS, World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def jiangbei_lags(authorities, settings):
    """江北区 reviews slowly (medians of 12, 20 and 30 days) and a spot check found false information; 渝中区 is
    clean."""
    for name, value in DEFAULTS.items():
        setattr(settings, name, value)
    w = World(authorities)
    w.city.username = "city-clerk"
    w.city.save(update_fields=["username"])
    slow = [w.record("500105", Status.IN_NATIONAL_LIBRARY) for _ in range(2)]
    w.review(slow[0], 12, decision=Decision.RETURN)
    w.review(slow[0], 20)
    w.review(slow[1], 30)
    w.spot_checks(slow, [Finding.CORRECT] * 4 + [Finding.FALSE_INFORMATION])
    quick = w.record("500103", Status.IN_NATIONAL_LIBRARY)
    w.review(quick, 2)
    w.record("500103", Status.SUBMITTED)
    return w


def test_it_shows_the_city_the_districts_due_for_a_circular_and_exports_them(
    page, live_server, jiangbei_lags
):
    page.goto("/city/figures/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/city/figures/")
    page.fill("#id_username", "city-clerk")
    page.fill("#id_password", TEST_PASSWORD)
    page.click("[type=submit]")

    expect(page.locator("h1")).to_have_text("各区县（开发区）补录工作统计")
    expect(page.locator("#figures-link")).to_be_visible()
    rows = page.locator("#figures-table tbody tr")
    expect(rows).to_have_count(44)  # 43 authorities and the city's totals
    jiangbei = page.locator('#figures-table tr[data-code="500105"]')
    expect(jiangbei).to_have_class("flagged")
    expect(jiangbei.locator("td").nth(11)).to_have_text("20.0")
    expect(jiangbei.locator("td").nth(20)).to_have_text("是")
    expect(jiangbei).to_contain_text("审核用时中位数20.0天，超过10天")
    expect(jiangbei).to_contain_text("抽查信息虚假率20.0%，超过5.0%")
    yuzhong = page.locator('#figures-table tr[data-code="500103"]')
    expect(yuzhong).not_to_have_class("flagged")
    expect(yuzhong.locator("td").nth(2)).to_have_text("2")
    expect(rows.last).to_contain_text("全市合计")
    expect(page.locator("#circular")).to_contain_text("建议通报批评（1个）")
    expect(page.locator("#circular li")).to_have_text(
        "江北区：审核用时中位数20.0天，超过10天；抽查信息虚假率20.0%，超过5.0%"
    )

    # The charts are SVG drawn on the server: a bar per status of each district, the threshold line.
    status_chart = page.locator("svg#status-chart")
    expect(status_chart).to_be_visible()
    expect(status_chart.locator("rect title")).to_have_count(
        3
    )  # 江北区 1 segment, 渝中区 2; the legend has no titles
    expect(status_chart.locator("g.flagged text.label")).to_have_text("⚑ 江北区")
    review_chart = page.locator("svg#review-time-chart")
    expect(review_chart).to_be_visible()
    expect(review_chart.locator("#review-time-threshold")).to_have_count(1)
    expect(review_chart.locator("g.flagged rect")).to_have_attribute("fill", "#b91c1c")
    box = status_chart.bounding_box()
    assert box["width"] > 400 and box["height"] > 400

    with page.expect_download() as download_info:
        page.click("#export-xlsx")
    download = download_info.value
    assert download.suggested_filename == f"各区县补录统计-{timezone.localdate():%Y%m%d}.xlsx"
    sheet = load_workbook(io.BytesIO(open(download.path(), "rb").read()))["各区县统计"]
    lines = {line[0]: line for line in sheet.iter_rows(min_row=3, values_only=True)}
    assert len(lines) == 44
    assert lines["500105"][1:12] == ("江北区", 2, 0, 0, 0, 0, 0, 2, 0, 3, 20.0)
    assert lines["500105"][20:] == ("是", "审核用时中位数20.0天，超过10天；抽查信息虚假率20.0%，超过5.0%")
    assert lines["500103"][20] == "否"


def test_the_figures_fit_a_1366_px_screen_and_keep_their_headers_and_names_in_view(
    page, live_server, jiangbei_lags
):
    """At 1366×768 the table scrolls inside its own box (never the page), no taller than the window; after
    scrolling it to the far right and down, the header rows and the code and name columns are still where they
    were; the charts fit the page with labels of a readable size."""
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto("/accounts/login/?next=/city/figures/")
    page.fill("#id_username", "city-clerk")
    page.fill("#id_password", TEST_PASSWORD)
    page.click("[type=submit]")
    expect(page.locator("h1")).to_have_text("各区县（开发区）补录工作统计")

    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"
    scroller = page.locator("#figures-scroll")
    box = scroller.bounding_box()
    main = page.locator("main").bounding_box()
    assert box["x"] >= main["x"] and box["x"] + box["width"] <= main["x"] + main["width"] + 1
    assert box["height"] <= 768, "its own scroll bar would be out of the window"
    sizes = scroller.evaluate("el => [el.scrollWidth, el.clientWidth, el.scrollHeight, el.clientHeight]")
    assert sizes[0] > sizes[1] and sizes[2] > sizes[3], sizes  # it scrolls both ways, inside itself

    scroller.scroll_into_view_if_needed()
    header = page.locator("#figures-table thead th.keep-2")
    header_before = header.bounding_box()
    rate_header = page.locator("#figures-table thead tr + tr th", has_text="虚假率")
    scroller.evaluate("el => { el.scrollLeft = el.scrollWidth; el.scrollTop = el.scrollHeight; }")
    page.wait_for_function(
        "() => { const el = document.getElementById('figures-scroll'); return el.scrollTop > 0 && el.scrollLeft > 0; }"
    )

    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=str(Path(os.environ["SCREENSHOT_DIR"]) / "figures-scrolled-1366.png"))
    header_after = header.bounding_box()
    assert abs(header_after["y"] - header_before["y"]) < 1 and abs(header_after["x"] - header_before["x"]) < 1
    box = scroller.bounding_box()
    # What the eye sees at the box's top-left corner is still the name column's header, and a row's first two
    # cells are still at the box's left edge: the totals row, scrolled into view at the bottom.
    corner = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y).closest('th').textContent",
        [header_after["x"] + 5, header_after["y"] + 5],
    )
    assert corner == "区县（开发区）"
    totals_name = page.locator("#figures-table tr.totals td.keep-2")
    name_box = totals_name.bounding_box()
    assert box["x"] <= name_box["x"] <= box["x"] + 100
    seen = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y).textContent", [name_box["x"] + 5, name_box["y"] + 5]
    )
    assert seen == "全市合计"
    # The last columns (the rates, the circular) came into view beside the kept columns, under their header.
    rate_box = rate_header.bounding_box()
    assert box["x"] < rate_box["x"] < box["x"] + box["width"]
    assert (
        abs(
            rate_box["y"]
            - (
                header_after["y"]
                + page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize) * 2")
            )
        )
        < 2
    )

    for chart in ("svg#status-chart", "svg#review-time-chart"):
        chart_box = page.locator(chart).bounding_box()
        assert (
            chart_box["x"] >= main["x"]
            and chart_box["x"] + chart_box["width"] <= main["x"] + main["width"] + 1
        )
        label = page.locator(f"{chart} text.label").first.bounding_box()
        assert label["height"] >= 11, f"{chart}'s labels are {label['height']:.1f}px high"
