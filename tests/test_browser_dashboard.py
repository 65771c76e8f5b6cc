"""The city's dashboard in real headless Chromium: a city user signs in, reads the table of 43 authorities and its
SVG charts, finds the district due for a circular and why, and downloads the Excel export of the same table."""

import io

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
    expect(jiangbei.locator("td").nth(18)).to_have_text("是")
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
    assert lines["500105"][18:] == ("是", "审核用时中位数20.0天，超过10天；抽查信息虚假率20.0%，超过5.0%")
    assert lines["500103"][18] == "否"
