"""The city's figures per district (reporting/figures.py, docs/figures.md): exact figures on a fixture with known
counts, the circular thresholds, the dashboard and its Excel export, who may see them, and a fixed query count."""

import datetime
import io
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from inspections.models import Finding, SpotCheckCampaign, SpotCheckItem
from projects.models import CityDepartment, Project, StageCode, Status, SubmissionVersion
from reporting import figures
from reporting.figures import DistrictFigures
from review.models import Decision, ReviewDecision
from tests.builders import make_city_user, make_enterprise_user, make_project, make_reviewer

pytestmark = pytest.mark.django_db

DASHBOARD = "/city/figures/"
EXPORT = "/city/figures/export.xlsx"

DEPARTMENT = {
    StageCode.REGISTRATION: CityDepartment.TENDERING_OFFICE,
    StageCode.TENDERING: CityDepartment.TENDERING_OFFICE,
    StageCode.CONTRACT: CityDepartment.TENDERING_OFFICE,
    StageCode.DRAWING_REVIEW: CityDepartment.DESIGN,
    StageCode.PERMIT: CityDepartment.APPROVAL_CENTER,
    StageCode.COMPLETION: CityDepartment.QUALITY_STATION,
}
STAGES = list(DEPARTMENT)
T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)  # when the reviewed submissions were made

DEFAULTS = {
    "FIGURES_MAX_MEDIAN_REVIEW_DAYS": 10.0,
    "FIGURES_BACKLOG_DAYS": 10,
    "FIGURES_MAX_BACKLOG": 5,
    "FIGURES_MAX_ERROR_RATE": 0.10,
    "FIGURES_MAX_FALSE_RATE": 0.05,
    "FIGURES_MIN_CHECKED": 5,
}


# ---------------------------------------------------------------- building the fixture


class World:
    """Records, reviews and spot checks written straight through the ORM, each helper one fact of the fixture."""

    def __init__(self, authorities):
        self.authorities = authorities
        self.clerk = make_enterprise_user()
        self.enterprise = self.clerk.membership.enterprise
        self.city = make_city_user(username="city-figures", department=CityDepartment.APPROVAL_CENTER)
        self.reviewers = {}
        self.campaigns = [
            SpotCheckCampaign.objects.create(
                name=f"2026年第{n}批抽查",
                stages=STAGES,
                period_start=datetime.date(2026, 1, 1),
                period_end=datetime.date(2026, 6, 30),
                sample_size=10,
                seed=n,
                created_by=self.city,
            )
            for n in (1, 2)
        ]
        self.checked_stages = {}  # project id -> stages already sampled in campaign 0

    def record(self, code, status, *, waited_days=None):
        project = make_project(
            self.enterprise, self.clerk, self.authorities[code], status=status, stages=False, evidence=False
        )
        if waited_days is not None:
            Project.objects.filter(pk=project.pk).update(
                submitted_at=timezone.now() - datetime.timedelta(days=waited_days)
            )
        return project

    def reviewer(self, code):
        if code not in self.reviewers:
            self.reviewers[code] = make_reviewer(self.authorities[code], username=f"reviewer-{code}")
        return self.reviewers[code]

    def review(self, project, days, *, decision=Decision.APPROVE):
        """A submission made at T0 and decided `days` days later."""
        number = SubmissionVersion.objects.filter(project=project).count() + 1
        version = SubmissionVersion.objects.create(
            project=project, number=number, submitted_at=T0, submitted_by=self.clerk, content={}
        )
        reviewer = self.reviewer(project.authority.code)
        return ReviewDecision.objects.create(
            project=project,
            version=version,
            decision=decision,
            reviewer=reviewer,
            authority_name=project.authority.name,
            decided_at=T0 + datetime.timedelta(days=days),
        )

    def spot_checks(self, projects, findings, *, campaign=0):
        """One item per finding, over the projects' stages in turn."""
        slots = [(p, stage) for p in projects for stage in STAGES]
        for (project, stage), finding in zip(slots, findings, strict=False):
            SpotCheckItem.objects.create(
                campaign=self.campaigns[campaign],
                project=project,
                stage=stage,
                department=DEPARTMENT[stage],
                finding=finding,
                checked_by=None if finding == Finding.PENDING else self.city,
                checked_at=None if finding == Finding.PENDING else timezone.now(),
            )


@pytest.fixture
def default_thresholds(settings):
    for name, value in DEFAULTS.items():
        setattr(settings, name, value)
    return settings


@pytest.fixture
def world(authorities, default_thresholds):
    """渝中区 (500103), 江北区 (500105) and 两江新区 (LJXQ) with known figures; 万州区 (500101) only a draft."""
    w = World(authorities)

    # 渝中区: 13 received (a draft and a withdrawn draft not counted), 2 of 3 under review waiting > 10 days;
    # reviews of 1, 2, 4 and 10 days (median 3.0); 9 items sampled, 8 checked: 2 errors, 1 false.
    w.record("500103", Status.DRAFT)
    withdrawn = w.record("500103", Status.DRAFT)
    SubmissionVersion.objects.create(project=withdrawn, number=1, submitted_by=w.clerk, content={})
    w.record("500103", Status.SUBMITTED, waited_days=15)
    w.record("500103", Status.SUBMITTED, waited_days=11)
    w.record("500103", Status.SUBMITTED, waited_days=2)
    returned = w.record("500103", Status.RETURNED)
    rejected = w.record("500103", Status.REJECTED)
    for status in (Status.IN_NOTICE, Status.IN_NOTICE, Status.OBJECTED, Status.ENTERING):
        w.record("500103", status)
    yuzhong_library = [w.record("500103", Status.IN_NATIONAL_LIBRARY) for _ in range(4)]
    w.review(returned, 1, decision=Decision.RETURN)
    w.review(rejected, 2, decision=Decision.REJECT)
    w.review(yuzhong_library[0], 4)
    w.review(yuzhong_library[1], 10)
    w.spot_checks(
        yuzhong_library[:1],
        [Finding.CORRECT] * 4 + [Finding.ERROR, Finding.PENDING],
    )
    w.spot_checks(
        yuzhong_library[1:2], [Finding.CORRECT, Finding.ERROR, Finding.FALSE_INFORMATION], campaign=1
    )

    # 江北区: 3 received; reviews of 12, 20 (a second submission) and 30 days (median 20.0);
    # 5 checked, 1 false.
    w.record("500105", Status.SUBMITTED, waited_days=2)
    jiangbei_library = [w.record("500105", Status.IN_NATIONAL_LIBRARY) for _ in range(2)]
    w.review(jiangbei_library[0], 12, decision=Decision.RETURN)
    w.review(jiangbei_library[0], 20)
    w.review(jiangbei_library[1], 30)
    w.spot_checks(jiangbei_library, [Finding.CORRECT] * 4 + [Finding.FALSE_INFORMATION])

    # 两江新区: 2 received, 1 waiting 11 days; one review of exactly 10 days (and one decision of old data with
    # no submission version: not a review time); 2 items checked, both false.
    lj_waiting = w.record("LJXQ", Status.SUBMITTED, waited_days=11)
    lj_library = w.record("LJXQ", Status.IN_NATIONAL_LIBRARY)
    w.review(lj_library, 10)
    ReviewDecision.objects.create(
        project=lj_waiting,
        version=None,
        decision=Decision.RETURN,
        reviewer=w.reviewer("LJXQ"),
        authority_name="两江新区",
        decided_at=T0,
    )
    w.spot_checks([lj_library], [Finding.FALSE_INFORMATION] * 2)

    # 万州区: a draft never submitted — nothing received.
    w.record("500101", Status.DRAFT)
    return w


YUZHONG = DistrictFigures(
    code="500103",
    name="渝中区",
    received=13,
    under_review=3,
    returned=1,
    rejected=1,
    in_notice=3,
    entering=1,
    entered=4,
    backlog=2,
    reviews=4,
    median_review_days=3.0,
    sample_size=9,
    checked=8,
    errors=2,
    false_information=1,
)
JIANGBEI = DistrictFigures(
    code="500105",
    name="江北区",
    received=3,
    under_review=1,
    entered=2,
    reviews=3,
    median_review_days=20.0,
    sample_size=5,
    checked=5,
    false_information=1,
)
LIANGJIANG = DistrictFigures(
    code="LJXQ",
    name="两江新区",
    received=2,
    under_review=1,
    entered=1,
    backlog=1,
    reviews=1,
    median_review_days=10.0,
    sample_size=2,
    checked=2,
    false_information=2,
)
KNOWN = {"500103": YUZHONG, "500105": JIANGBEI, "LJXQ": LIANGJIANG}


def with_reasons(row, *reasons):
    return DistrictFigures(**{**row.__dict__, "reasons": tuple(reasons)})


def by_code(rows):
    return {row.code: row for row in rows}


# ---------------------------------------------------------------- the figures


def test_it_counts_every_column_of_the_fixture_exactly(world):
    rows = by_code(figures.district_figures())

    assert rows["500103"] == with_reasons(
        YUZHONG, "抽查信息有误率25.0%，超过10.0%", "抽查信息虚假率12.5%，超过5.0%"
    )
    assert rows["500105"] == with_reasons(
        JIANGBEI, "审核用时中位数20.0天，超过10天", "抽查信息虚假率20.0%，超过5.0%"
    )
    assert (
        rows["LJXQ"] == LIANGJIANG
    )  # 10.0 days is at the limit, not over; 2 checked items are too few to judge
    assert (rows["500103"].error_rate, rows["500103"].false_rate) == (0.25, 0.125)
    assert (rows["500105"].error_rate, rows["500105"].false_rate) == (0.0, 0.2)
    assert (rows["LJXQ"].error_rate, rows["LJXQ"].false_rate) == (0.0, 1.0)


def test_it_gives_all_43_authorities_in_code_order_and_zeros_where_nothing_happened(world, authorities):
    rows = figures.district_figures()

    assert [row.code for row in rows] == sorted(authorities)
    assert len(rows) == 43
    untouched = [row for row in rows if row.code not in KNOWN]
    assert untouched == [
        DistrictFigures(code=a.code, name=a.name)
        for a in sorted(authorities.values(), key=lambda a: a.code)
        if a.code not in KNOWN
    ]
    wanzhou = by_code(rows)["500101"]  # only a draft
    assert (wanzhou.received, wanzhou.median_review_days, wanzhou.error_rate, wanzhou.due_for_circular) == (
        0,
        None,
        None,
        False,
    )


def test_it_totals_the_city_with_the_median_of_all_reviews(world):
    table = figures.figures_table()

    assert table.totals == DistrictFigures(
        code="",
        name="全市合计",
        received=18,
        under_review=5,
        returned=1,
        rejected=1,
        in_notice=3,
        entering=1,
        entered=7,
        backlog=3,
        reviews=8,
        median_review_days=10.0,  # of 1, 2, 4, 10, 10, 12, 20, 30
        sample_size=16,
        checked=15,
        errors=2,
        false_information=4,
    )
    assert [row.code for row in table.flagged] == ["500103", "500105"]


def test_it_counts_the_backlog_against_the_day_it_is_asked_for(world):
    later = timezone.localdate() + datetime.timedelta(days=9)

    rows = by_code(figures.district_figures(today=later))

    # Nine days on, every submission of the fixture has waited more than ten days.
    assert (rows["500103"].backlog, rows["500105"].backlog, rows["LJXQ"].backlog) == (3, 1, 1)
    assert rows["500103"].under_review == 3


def test_it_reads_in_five_queries(world, django_assert_num_queries):
    with django_assert_num_queries(5):
        figures.district_figures()


# ---------------------------------------------------------------- thresholds


def test_it_marks_exactly_the_authorities_over_the_thresholds_in_settings(world, settings):
    settings.FIGURES_MAX_BACKLOG = 1
    settings.FIGURES_MAX_ERROR_RATE = 0.25
    settings.FIGURES_MAX_FALSE_RATE = 0.2

    flagged = figures.figures_table().flagged

    # A figure equal to its limit is not over it: 渝中区's 25.0% errors, 江北区's 20.0% false, 两江新区's backlog of 1.
    assert flagged == [
        with_reasons(YUZHONG, "超过10天未审核的记录2件，超过1件"),
        with_reasons(JIANGBEI, "审核用时中位数20.0天，超过10天"),
    ]


def test_it_judges_small_samples_and_short_backlogs_when_told_to(world, settings):
    settings.FIGURES_BACKLOG_DAYS = 1
    settings.FIGURES_MAX_BACKLOG = 0
    settings.FIGURES_MAX_MEDIAN_REVIEW_DAYS = 100
    settings.FIGURES_MAX_ERROR_RATE = 1
    settings.FIGURES_MAX_FALSE_RATE = 0.5
    settings.FIGURES_MIN_CHECKED = 2

    flagged = figures.figures_table().flagged

    assert [(row.code, row.reasons) for row in flagged] == [
        ("500103", ("超过1天未审核的记录3件，超过0件",)),
        ("500105", ("超过1天未审核的记录1件，超过0件",)),
        ("LJXQ", ("超过1天未审核的记录1件，超过0件", "抽查信息虚假率100.0%，超过50.0%")),
    ]


def test_it_marks_nobody_under_lenient_thresholds(world, settings, client):
    settings.FIGURES_MAX_MEDIAN_REVIEW_DAYS = 365
    settings.FIGURES_MAX_BACKLOG = 100
    settings.FIGURES_MAX_ERROR_RATE = 1
    settings.FIGURES_MAX_FALSE_RATE = 1

    assert figures.figures_table().flagged == []
    client.force_login(world.city)
    page = client.get(DASHBOARD).content.decode()
    assert "目前没有区县超过通报批评的阈值" in page
    assert 'class="flagged' not in page


# ---------------------------------------------------------------- the dashboard and the export


class TableParser(HTMLParser):
    """The cells of <table id="figures-table">, row by row, with each row's class."""

    def __init__(self):
        super().__init__()
        self.rows, self.classes = [], []
        self._in_table = self._in_cell = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id") == "figures-table":
            self._in_table = True
        elif self._in_table and tag == "tr":
            self.rows.append([])
            self.classes.append(attrs.get("class") or "")
        elif self._in_table and tag in ("td", "th"):
            self._in_cell = True
            self.rows[-1].append("")

    def handle_endtag(self, tag):
        if tag == "table":
            self._in_table = False
        elif tag in ("td", "th"):
            self._in_cell = False

    def handle_data(self, data):
        if self._in_table and self._in_cell:
            self.rows[-1][-1] += data.strip()


def page_table(html):
    """The page's table, its two header rows read as one (the code and name headers span both rows; the groups
    of the first row kept apart, in `groups`)."""
    parser = TableParser()
    parser.feed(html)
    first, second = parser.rows[0], parser.rows[1]
    parser.groups = first[2:]
    parser.rows[:2] = [first[:2] + second]
    parser.classes[:2] = [parser.classes[0]]
    return parser


def shown(cell, column):
    """A workbook cell as the page shows it: an empty number is a dash, an empty text nothing."""
    if cell.value is None:
        return "—" if column.kind in ("days", "rate") else ""
    if cell.number_format == "0.0%":
        return f"{cell.value * 100:.1f}%"
    if cell.number_format == "0.0":
        return f"{cell.value:.1f}"
    return str(cell.value)


def test_it_shows_the_table_the_flags_and_the_charts(world, client):
    client.force_login(world.city)

    response = client.get(DASHBOARD)

    assert response.status_code == 200
    html = response.content.decode()
    table = page_table(html)
    assert table.rows[0] == figures.HEADERS
    assert table.groups == [label for label, _span in figures.HEADER_GROUPS]
    assert len(table.rows) == 1 + 43 + 1
    rows = {cells[0]: (cells, css) for cells, css in zip(table.rows[1:], table.classes[1:], strict=True)}
    yuzhong, css = rows["500103"]
    assert yuzhong == [
        "500103", "渝中区", "13", "3", "1", "1", "3", "1", "4", "2", "4", "3.0", "0", "0", "9", "8", "2", "1",
        "25.0%", "12.5%", "是", "抽查信息有误率25.0%，超过10.0%；抽查信息虚假率12.5%，超过5.0%",
    ]  # fmt: skip
    assert "flagged" in css
    assert rows["LJXQ"][0][-2:] == ["否", ""] and "flagged" not in rows["LJXQ"][1]
    assert rows["500101"][0][2:] == ["0"] * 9 + ["—"] + ["0"] * 6 + ["—", "—", "否", ""]
    assert table.rows[-1][:3] == ["", "全市合计", "18"] and table.rows[-1][-2] == "2个"
    assert 'id="status-chart"' in html and 'id="review-time-chart"' in html
    assert "上限 10 天" in html
    assert "⚑ 江北区" in html
    assert "渝中区 已入库 4" in html  # a bar segment's tooltip
    assert html.count('id="circular"') == 1 and "江北区</strong>：审核用时中位数20.0天，超过10天" in html


def test_it_exports_the_same_table_to_excel(world, client):
    client.force_login(world.city)
    table = page_table(client.get(DASHBOARD).content.decode())

    response = client.get(EXPORT)

    assert response.status_code == 200
    assert response["Content-Type"] == figures.XLSX_CONTENT_TYPE
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook["各区县统计"]
    assert sheet["A1"].value.startswith("各区县（开发区）补录工作统计")
    assert [cell.value for cell in sheet[2]] == table.rows[0] == figures.HEADERS
    exported = [
        [shown(cell, column) for cell, column in zip(line, figures.COLUMNS, strict=True)]
        for line in sheet.iter_rows(min_row=3)
    ]
    assert exported == table.rows[1:]
    yuzhong = next(line for line in sheet.iter_rows(min_row=3) if line[0].value == "500103")
    assert [cell.value for cell in yuzhong[2:20]] == [
        13,
        3,
        1,
        1,
        3,
        1,
        4,
        2,
        4,
        3.0,
        0,
        0,
        9,
        8,
        2,
        1,
        0.25,
        0.125,
    ]
    assert yuzhong[0].fill.fgColor.rgb.endswith("FEE2E2")
    assert workbook["口径与阈值"]["B2"].value == 10.0


def test_it_draws_bars_in_proportion(world):
    rows = figures.district_figures()
    chart = figures.status_chart(rows)
    yuzhong = next(bar for bar in chart["bars"] if bar["row"].code == "500103")

    # The widest bar is 13 records on an axis to 15: 600px for 15.
    assert [s["width"] for s in yuzhong["segments"]] == [120.0, 40.0, 40.0, 120.0, 40.0, 160.0]
    assert [t["label"] for t in chart["ticks"]] == ["0", "3", "6", "9", "12", "15"]

    times = figures.review_time_chart(rows, 10)
    jiangbei = next(bar for bar in times["bars"] if bar["row"].code == "500105")
    assert (jiangbei["width"], jiangbei["colour"], jiangbei["label"]) == (400.0, "#b91c1c", "20.0天")
    assert times["threshold_x"] == 170 + 200.0  # an axis to 30 days


# ---------------------------------------------------------------- who may see them


@pytest.fixture
def people(authorities):
    from django.contrib.auth import get_user_model

    return {
        "enterprise": make_enterprise_user(),
        "reviewer": make_reviewer(authorities["500103"]),
        "city": make_city_user(),
        "city department": make_city_user(department=CityDepartment.QUALITY_STATION),
        "superuser": get_user_model().objects.create_superuser("root-figures", "root@example.com", "x"),
    }


@pytest.mark.parametrize("url", [DASHBOARD, EXPORT])
@pytest.mark.parametrize(
    "who, status",
    [
        ("enterprise", 403),
        ("reviewer", 403),
        ("city", 200),
        ("city department", 200),
        ("superuser", 200),
    ],
)
def test_it_lets_only_the_city_and_superusers_see_the_figures(client, people, url, who, status):
    client.force_login(people[who])

    response = client.get(url)

    assert response.status_code == status
    if status == 403:
        assert "此页面仅供市级管理人员使用" in response.content.decode()


@pytest.mark.parametrize("url", [DASHBOARD, EXPORT])
def test_it_sends_an_anonymous_visitor_to_the_login_page(client, authorities, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_it_links_the_dashboard_for_the_city_only(client, people):
    for who, linked in [("city", True), ("superuser", True), ("reviewer", False), ("enterprise", False)]:
        client.force_login(people[who])
        page = client.get("/inbox/").content.decode()
        assert ('id="figures-link"' in page) is linked, who


# ---------------------------------------------------------------- a fixed number of queries


def test_it_builds_the_page_and_the_export_in_the_same_number_of_queries_at_two_sizes(
    authorities, default_thresholds, client, django_assert_num_queries
):
    w = World(authorities)
    client.force_login(w.city)

    def grow(codes):
        for code in codes:
            for status in (Status.SUBMITTED, Status.RETURNED, Status.IN_NOTICE, Status.IN_NATIONAL_LIBRARY):
                project = w.record(code, status, waited_days=12)
                w.review(project, 3)
                w.spot_checks([project], [Finding.CORRECT, Finding.ERROR, Finding.FALSE_INFORMATION])

    def queries(url):
        with django_assert_num_queries(PAGE_QUERIES if url == DASHBOARD else EXPORT_QUERIES):
            assert client.get(url).status_code == 200

    grow(["500103"])
    queries(DASHBOARD)
    queries(EXPORT)
    grow(["500103", "500105", "500106", "LJXQ", "GXQ", "500101"] * 3)
    assert Project.objects.count() == 76 and SpotCheckItem.objects.count() == 228
    queries(DASHBOARD)
    queries(EXPORT)
    assert by_code(figures.district_figures())["500103"].received == 16


# Session, user, membership, the five figure queries; the page also counts the unread notifications and reads the
# agencies' figures in three more (reporting.figures.agency_figures).
EXPORT_QUERIES = 8
PAGE_QUERIES = 12


def test_the_pages_header_groups_cover_every_column_after_the_first_two():
    from reporting.figures import COLUMNS, HEADER_GROUPS

    assert sum(span for _label, span in HEADER_GROUPS) == len(COLUMNS) - 2
