"""The city's figures per district (各区县补录工作统计): what each of the 43 authorities has received, reviewed,
noticed and brought into the national library, how long its reviews take, what the city's spot checks found in
its records, and whether it is due for a circular (通报批评). Every column is defined in docs/figures.md.

Reads only. Five queries whatever the amount of data: the status counts are conditional aggregates grouped by
authority, the spot-check counts likewise, the review times come from one values_list query whose medians are
taken in Python (portable: the same on SQLite and PostgreSQL, which have no common median aggregate), and the
national platform's refusals and the read-back's open discrepancies are each one grouped count.

Below the figures: the Excel export of the same table and the geometry of the dashboard's SVG charts (pure
functions of the rows; the templates draw them).
"""

import datetime
import io
import statistics
from dataclasses import dataclass, replace

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from inspections.models import Finding, SpotCheckItem
from projects.models import Authority, Enterprise, EnterpriseKind, Project, ProjectKind, Status
from publicity.models import OutboxMessage, OutboxState, ReconciliationDiscrepancy
from review.models import ReviewDecision

# ---------------------------------------------------------------- thresholds


@dataclass(frozen=True)
class Thresholds:
    """When an authority is due for a circular: any figure strictly above its limit (settings, docs/figures.md)."""

    max_median_review_days: float
    backlog_days: int
    max_backlog: int
    max_error_rate: float
    max_false_rate: float
    min_checked: int

    @classmethod
    def from_settings(cls) -> "Thresholds":
        return cls(
            max_median_review_days=settings.FIGURES_MAX_MEDIAN_REVIEW_DAYS,
            backlog_days=settings.FIGURES_BACKLOG_DAYS,
            max_backlog=settings.FIGURES_MAX_BACKLOG,
            max_error_rate=settings.FIGURES_MAX_ERROR_RATE,
            max_false_rate=settings.FIGURES_MAX_FALSE_RATE,
            min_checked=settings.FIGURES_MIN_CHECKED,
        )

    @property
    def description(self) -> str:
        return (
            f"审核用时中位数不超过{self.max_median_review_days:g}天；"
            f"提交超过{self.backlog_days}天仍未审核的记录不超过{self.max_backlog}件；"
            f"已核查{self.min_checked}项及以上时，抽查信息有误率不超过{percent(self.max_error_rate)}、"
            f"信息虚假率不超过{percent(self.max_false_rate)}。"
        )


# ---------------------------------------------------------------- one row per authority


@dataclass(frozen=True)
class DistrictFigures:
    code: str
    name: str
    received: int = 0  # submitted at least once and not back in draft: every status but draft
    under_review: int = 0  # submitted
    returned: int = 0
    rejected: int = 0
    in_notice: int = 0  # in_notice + objected (a paused notice is still a notice)
    entering: int = 0  # notice over, delivery to the national platform under way
    entered: int = 0  # in_national_library
    backlog: int = 0  # under review, submitted more than backlog_days days before `today`
    reviews: int = 0  # decisions on a submission version (the median's population)
    median_review_days: float | None = None  # rounded to 0.1 day; None without reviews
    sample_size: int = 0  # spot-check items (one sampled stage of one record each)
    checked: int = 0  # items with a finding (correct, error or false information)
    errors: int = 0
    false_information: int = 0
    national_refused: int = 0  # deliveries the national platform refused (全国平台退回)
    discrepancies: int = 0  # open read-back discrepancies (报送核对: missing or altered at the platform)
    reasons: tuple[str, ...] = ()  # why it is due for a circular; empty: not due

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.checked if self.checked else None

    @property
    def false_rate(self) -> float | None:
        return self.false_information / self.checked if self.checked else None

    @property
    def due_for_circular(self) -> bool:
        return bool(self.reasons)


COUNT_FIELDS = [
    "received",
    "under_review",
    "returned",
    "rejected",
    "in_notice",
    "entering",
    "entered",
    "backlog",
    "reviews",
    "sample_size",
    "checked",
    "errors",
    "false_information",
    "national_refused",
    "discrepancies",
]

# Which statuses each column counts. Draft is counted nowhere: a record withdrawn before any decision is back
# with its enterprise (docs/figures.md).
STATUS_COLUMNS = {
    "under_review": (Status.SUBMITTED,),
    "returned": (Status.RETURNED,),
    "rejected": (Status.REJECTED,),
    "in_notice": (Status.IN_NOTICE, Status.OBJECTED),
    "entering": (Status.ENTERING,),
    "entered": (Status.IN_NATIONAL_LIBRARY,),
}
RECEIVED_STATUSES = tuple(s for statuses in STATUS_COLUMNS.values() for s in statuses)
CHECKED_FINDINGS = (Finding.CORRECT, Finding.ERROR, Finding.FALSE_INFORMATION)


@dataclass(frozen=True)
class FiguresTable:
    rows: list[DistrictFigures]
    totals: (
        DistrictFigures  # the city as a whole: sums, the median of all reviews, rates of all checked items
    )
    thresholds: Thresholds
    today: datetime.date

    @property
    def flagged(self) -> list[DistrictFigures]:
        return [row for row in self.rows if row.due_for_circular]


def backlog_cutoff(today: datetime.date, days: int) -> datetime.datetime:
    """A submission made before this moment (midnight, Beijing time, `days` days before today) has waited more
    than `days` calendar days."""
    start = datetime.datetime.combine(today - datetime.timedelta(days=days), datetime.time.min)
    return timezone.make_aware(start)


def district_figures(today: datetime.date | None = None) -> list[DistrictFigures]:
    """The figures of all 43 authorities, in code order (authorities with nothing yet are rows of zeros)."""
    return figures_table(today).rows


def figures_table(today: datetime.date | None = None, thresholds: Thresholds | None = None) -> FiguresTable:
    """The table of the dashboard and the export: a row per authority in code order, the city's totals, and the
    thresholds the rows were flagged against."""
    today = today or timezone.localdate()
    thresholds = thresholds or Thresholds.from_settings()
    checks = _spot_check_counts()
    durations = _review_durations()
    refused = _national_refusals()
    discrepancies = _open_discrepancies()
    rows = []
    for entry in _status_counts(today, thresholds.backlog_days):
        check = checks.get(entry["id"], {})
        seconds = durations.get(entry["id"], [])
        row = DistrictFigures(
            code=entry["code"],
            name=entry["name"],
            received=entry["received"],
            backlog=entry["backlog"],
            **{column: entry[column] for column in STATUS_COLUMNS},
            reviews=len(seconds),
            median_review_days=_median_days(seconds),
            sample_size=check.get("sample_size", 0),
            checked=check.get("checked", 0),
            errors=check.get("errors", 0),
            false_information=check.get("false_information", 0),
            national_refused=refused.get(entry["id"], 0),
            discrepancies=discrepancies.get(entry["id"], 0),
        )
        rows.append(_with_reasons(row, thresholds))

    all_seconds = [s for values in durations.values() for s in values]
    totals = DistrictFigures(
        code="",
        name="全市合计",
        **{name: sum(getattr(row, name) for row in rows) for name in COUNT_FIELDS if name != "reviews"},
        reviews=len(all_seconds),
        median_review_days=_median_days(all_seconds),
    )
    return FiguresTable(rows=rows, totals=totals, thresholds=thresholds, today=today)


# A district's figures count the records it reviews: its construction records, and the design records the city
# routed to it (the others are their agencies': agency_figures, docs/figures.md).
REVIEWED_BY_DISTRICT = ~Q(projects__kind=ProjectKind.DESIGN) | Q(projects__routed_to_district=True)


def _status_counts(today: datetime.date, backlog_days: int) -> list[dict]:
    """Query 1: status counts per authority, one grouped query with a conditional count per column."""
    status_counts = {
        column: Count("projects", filter=Q(projects__status__in=statuses) & REVIEWED_BY_DISTRICT)
        for column, statuses in STATUS_COLUMNS.items()
    }
    authorities = Authority.objects.order_by("code").annotate(
        received=Count("projects", filter=Q(projects__status__in=RECEIVED_STATUSES) & REVIEWED_BY_DISTRICT),
        backlog=Count(
            "projects",
            filter=Q(
                projects__status=Status.SUBMITTED,
                projects__submitted_at__lt=backlog_cutoff(today, backlog_days),
            )
            & REVIEWED_BY_DISTRICT,
        ),
        **status_counts,
    )
    return list(authorities.values("id", "code", "name", "received", "backlog", *status_counts))


def _spot_check_counts() -> dict[int, dict]:
    """Query 2: spot-check counts per authority of the sampled record."""
    return {
        entry["project__authority_id"]: entry
        for entry in SpotCheckItem.objects.order_by()
        .values("project__authority_id")
        .annotate(
            sample_size=Count("id"),
            checked=Count("id", filter=Q(finding__in=CHECKED_FINDINGS)),
            errors=Count("id", filter=Q(finding=Finding.ERROR)),
            false_information=Count("id", filter=Q(finding=Finding.FALSE_INFORMATION)),
        )
    }


def _review_durations() -> dict[int, list[float]]:
    """Query 3: review durations per authority, each decision on a submission version from that submission to the
    decision, in seconds."""
    durations: dict[int, list[float]] = {}
    for authority_id, submitted_at, decided_at in (
        ReviewDecision.objects.filter(version__isnull=False)
        .filter(~Q(project__kind=ProjectKind.DESIGN) | Q(project__routed_to_district=True))
        .order_by()
        .values_list("project__authority_id", "version__submitted_at", "decided_at")
    ):
        durations.setdefault(authority_id, []).append((decided_at - submitted_at).total_seconds())
    return durations


def _national_refusals() -> dict[int, int]:
    """Query 4: deliveries the national platform refused, per authority of the record."""
    return dict(
        OutboxMessage.objects.filter(state=OutboxState.REFUSED)
        .order_by()
        .values("project__authority_id")
        .annotate(n=Count("id"))
        .values_list("project__authority_id", "n")
    )


def _open_discrepancies() -> dict[int, int]:
    """Query 5: what the daily read-back found and is not yet resolved, per authority."""
    return dict(
        ReconciliationDiscrepancy.objects.filter(resolved_at__isnull=True)
        .order_by()
        .values("authority_id")
        .annotate(n=Count("id"))
        .values_list("authority_id", "n")
    )


def _median_days(seconds: list[float]) -> float | None:
    if not seconds:
        return None
    return round(statistics.median(seconds) / 86400, 1)


def _with_reasons(row: DistrictFigures, t: Thresholds) -> DistrictFigures:
    reasons = []
    if row.median_review_days is not None and row.median_review_days > t.max_median_review_days:
        reasons.append(f"审核用时中位数{row.median_review_days:.1f}天，超过{t.max_median_review_days:g}天")
    if row.backlog > t.max_backlog:
        reasons.append(f"超过{t.backlog_days}天未审核的记录{row.backlog}件，超过{t.max_backlog}件")
    if row.checked >= t.min_checked:
        if row.error_rate > t.max_error_rate:
            reasons.append(f"抽查信息有误率{percent(row.error_rate)}，超过{percent(t.max_error_rate)}")
        if row.false_rate > t.max_false_rate:
            reasons.append(f"抽查信息虚假率{percent(row.false_rate)}，超过{percent(t.max_false_rate)}")
    return replace(row, reasons=tuple(reasons))


# ---------------------------------------------------------------- one row per drawing-review agency


@dataclass(frozen=True)
class AgencyFigures:
    """A drawing-review agency's design records (渝建〔2018〕103号), counted as a district's are."""

    name: str
    credit_code: str
    received: int = 0
    under_review: int = 0
    returned: int = 0
    rejected: int = 0
    in_notice: int = 0
    entering: int = 0
    entered: int = 0
    reviews: int = 0
    median_review_days: float | None = None


AGENCY_HEADERS = [
    "审查机构",
    "统一社会信用代码",
    "已收到",
    "待审核",
    "退回修改",
    "不予受理",
    "公示中",
    "入库中",
    "已入库",
    "审核次数",
    "审核用时中位数（天）",
]


def agency_figures() -> tuple[list[AgencyFigures], int]:
    """A row per drawing-review agency that has design records routed to it (name order), and the number of
    design records waiting in the city's queue. Three queries whatever the amount of data."""
    counts = {
        column: Count("design_projects_to_review", filter=Q(design_projects_to_review__status__in=statuses))
        for column, statuses in STATUS_COLUMNS.items()
    }
    agencies = (
        Enterprise.objects.filter(kind=EnterpriseKind.DRAWING_REVIEW)
        .annotate(
            received=Count(
                "design_projects_to_review",
                filter=Q(design_projects_to_review__status__in=RECEIVED_STATUSES),
            ),
            **counts,
        )
        .filter(received__gt=0)
        .order_by("name")
        .values("id", "name", "credit_code", "received", *counts)
    )
    durations: dict[int, list[float]] = {}
    for agency_id, submitted_at, decided_at in (
        ReviewDecision.objects.filter(version__isnull=False, project__kind=ProjectKind.DESIGN)
        .exclude(project__reviewing_agency__isnull=True)
        .exclude(project__routed_to_district=True)
        .order_by()
        .values_list("project__reviewing_agency_id", "version__submitted_at", "decided_at")
    ):
        durations.setdefault(agency_id, []).append((decided_at - submitted_at).total_seconds())
    rows = [
        AgencyFigures(
            name=entry["name"],
            credit_code=entry["credit_code"],
            received=entry["received"],
            **{column: entry[column] for column in STATUS_COLUMNS},
            reviews=len(durations.get(entry["id"], [])),
            median_review_days=_median_days(durations.get(entry["id"], [])),
        )
        for entry in agencies
    ]
    waiting = Project.objects.filter(
        kind=ProjectKind.DESIGN,
        status=Status.SUBMITTED,
        reviewing_agency__isnull=True,
        routed_to_district=False,
    ).count()
    return rows, waiting


def agency_display_rows(rows: list[AgencyFigures]) -> list[list[str]]:
    return [
        [
            row.name,
            row.credit_code,
            *[str(getattr(row, column)) for column in ("received", *STATUS_COLUMNS, "reviews")],
            "—" if row.median_review_days is None else f"{row.median_review_days:.1f}",
        ]
        for row in rows
    ]


# ---------------------------------------------------------------- the table as shown and exported


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: str = "count"  # count | text | days | rate | flag | reasons


COLUMNS = [
    Column("code", "代码", "text"),
    Column("name", "区县（开发区）", "text"),
    Column("received", "收到记录"),
    Column("under_review", "审核中"),
    Column("returned", "退回修改"),
    Column("rejected", "不予受理"),
    Column("in_notice", "公示中（含异议处理）"),
    Column("entering", "入库中"),
    Column("entered", "已入库"),
    Column("backlog", "超期未审"),
    Column("reviews", "审核次数"),
    Column("median_review_days", "审核用时中位数（天）", "days"),
    Column("national_refused", "全国平台退回"),
    Column("discrepancies", "报送核对差异"),
    Column("sample_size", "抽查数"),
    Column("checked", "已核查"),
    Column("errors", "信息有误"),
    Column("false_information", "信息虚假"),
    Column("error_rate", "有误率", "rate"),
    Column("false_rate", "虚假率", "rate"),
    Column("due_for_circular", "建议通报批评", "flag"),
    Column("reasons", "原因", "reasons"),
]
HEADERS = [column.header for column in COLUMNS]
# The page groups the columns after the first two under a header row of its own, so that twenty columns read as
# four subjects (the export keeps one header row; tests/test_figures.py checks the spans cover every column).
HEADER_GROUPS = [("各状态记录数", 8), ("审核", 2), ("报送全国平台", 2), ("抽查", 6), ("通报批评", 2)]


def _flag(table: FiguresTable, row: DistrictFigures):
    if row is table.totals:
        return f"{len(table.flagged)}个"
    return "是" if row.due_for_circular else "否"


def export_value(table: FiguresTable, row: DistrictFigures, column: Column):
    """The cell as stored in the workbook: numbers as numbers, rates as fractions (shown as %), no value: empty."""
    if column.kind == "flag":
        return _flag(table, row)
    if column.kind == "reasons":
        return "；".join(row.reasons)
    return getattr(row, column.key)


def display_value(table: FiguresTable, row: DistrictFigures, column: Column) -> str:
    """The cell as the page shows it."""
    value = export_value(table, row, column)
    if column.kind == "rate":
        return percent(value)
    if column.kind == "days":
        return "—" if value is None else f"{value:.1f}"
    return str(value)


def display_rows(table: FiguresTable) -> list[tuple[DistrictFigures, list[str]]]:
    return [(row, [display_value(table, row, c) for c in COLUMNS]) for row in [*table.rows, table.totals]]


XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_workbook(table: FiguresTable) -> bytes:
    """The same table as an .xlsx file: a title line, the headers, 43 rows, the city's totals; flagged rows in red."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "各区县统计"
    sheet.append([f"各区县（开发区）补录工作统计（截至{table.today:%Y-%m-%d}）"])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append(HEADERS)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    flagged_fill = PatternFill("solid", fgColor="FEE2E2")
    for row in [*table.rows, table.totals]:
        sheet.append([export_value(table, row, column) for column in COLUMNS])
        line = sheet[sheet.max_row]
        for cell, column in zip(line, COLUMNS, strict=True):
            if column.kind == "rate":
                cell.number_format = "0.0%"
            elif column.kind == "days":
                cell.number_format = "0.0"
            if row.due_for_circular:
                cell.fill = flagged_fill
            if row is table.totals:
                cell.font = Font(bold=True)
    for index, column in enumerate(COLUMNS, start=1):
        width = {"text": 22, "reasons": 60}.get(column.kind, max(8, len(column.header) * 2 + 2))
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "C3"
    t = table.thresholds
    notes = workbook.create_sheet("口径与阈值")
    for line in [
        ("统计日期", f"{table.today:%Y-%m-%d}"),
        ("审核用时中位数上限（天）", t.max_median_review_days),
        ("超期未审：提交后超过（天）", t.backlog_days),
        ("超期未审记录上限（件）", t.max_backlog),
        ("抽查信息有误率上限", t.max_error_rate),
        ("抽查信息虚假率上限", t.max_false_rate),
        ("计算抽查比率所需的最少已核查数", t.min_checked),
        ("说明", "任一指标超过上限（不含等于）即建议通报批评；各列定义见系统文档 docs/figures.md。"),
    ]:
        notes.append(list(line))
    notes.column_dimensions["A"].width = 34
    notes.column_dimensions["B"].width = 60
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------- chart geometry (SVG drawn by the templates)

CHART_WIDTH = 860
LABEL_WIDTH = 170
PLOT_WIDTH = 600
ROW_HEIGHT = 18
BAR_HEIGHT = 12
TOP = 40  # room for the legend and the axis
STATUS_SERIES = [
    ("under_review", "审核中", "#2563eb"),
    ("returned", "退回修改", "#d97706"),
    ("rejected", "不予受理", "#b91c1c"),
    ("in_notice", "公示中", "#7c3aed"),
    ("entering", "入库中", "#0d9488"),
    ("entered", "已入库", "#16a34a"),
]


def _nice_max(value: float) -> float:
    """A round upper bound for an axis (1, 2, 5 × 10^n) at least `value` (and at least 1)."""
    value = max(value, 1)
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 1.5, 2, 3, 4, 5, 6, 8, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def _count_axis(value: int) -> int:
    """An axis for whole records: 5 or 10 for small counts, so the five tick steps are whole numbers."""
    if value <= 5:
        return 5
    if value <= 10:
        return 10
    return int(_nice_max(value))


def _ticks(maximum: float) -> list[dict]:
    return [{"x": LABEL_WIDTH + PLOT_WIDTH * i / 5, "label": f"{maximum * i / 5:g}"} for i in range(6)]


def status_chart(rows: list[DistrictFigures]) -> dict:
    """Stacked horizontal bars: each authority's received records split by where they are now."""
    maximum = _count_axis(max((row.received for row in rows), default=0))
    bars = []
    for index, row in enumerate(rows):
        y = TOP + index * ROW_HEIGHT
        x = LABEL_WIDTH
        segments = []
        for key, label, colour in STATUS_SERIES:
            count = getattr(row, key)
            if count:
                width = PLOT_WIDTH * count / maximum
                segments.append(
                    {
                        "x": round(x, 2),
                        "width": round(width, 2),
                        "colour": colour,
                        "title": f"{row.name} {label} {count}",
                    }
                )
                x += width
        bars.append(
            {
                "row": row,
                "y": y,
                "bar_y": y + 3,
                "text_y": y + 13,
                "segments": segments,
                "end_x": round(x + 4, 2),
            }
        )
    return {
        "width": CHART_WIDTH,
        "height": TOP + len(rows) * ROW_HEIGHT + 10,
        "label_x": LABEL_WIDTH - 6,
        "plot_left": LABEL_WIDTH,
        "plot_bottom": TOP + len(rows) * ROW_HEIGHT,
        "ticks": _ticks(maximum),
        "legend": [
            {
                "x": LABEL_WIDTH + i * 100,
                "text_x": LABEL_WIDTH + i * 100 + 16,
                "label": label,
                "colour": colour,
            }
            for i, (_, label, colour) in enumerate(STATUS_SERIES)
        ],
        "bars": bars,
    }


def review_time_chart(rows: list[DistrictFigures], threshold_days: float) -> dict:
    """Horizontal bars of the median review time, a dashed line at the threshold; bars over it in red."""
    longest = max((row.median_review_days or 0 for row in rows), default=0)
    maximum = _nice_max(max(longest, threshold_days) * 1.1)
    bars = []
    for index, row in enumerate(rows):
        y = TOP + index * ROW_HEIGHT
        days = row.median_review_days
        width = PLOT_WIDTH * (days or 0) / maximum
        over = days is not None and days > threshold_days
        bars.append(
            {
                "row": row,
                "y": y,
                "bar_y": y + 3,
                "text_y": y + 13,
                "width": round(width, 2),
                "colour": "#b91c1c" if over else "#2563eb",
                "label": "无审核" if days is None else f"{days:.1f}天",
                "end_x": round(LABEL_WIDTH + width + 4, 2),
            }
        )
    return {
        "width": CHART_WIDTH,
        "height": TOP + len(rows) * ROW_HEIGHT + 10,
        "label_x": LABEL_WIDTH - 6,
        "plot_left": LABEL_WIDTH,
        "plot_bottom": TOP + len(rows) * ROW_HEIGHT,
        "ticks": _ticks(maximum),
        "threshold_x": round(LABEL_WIDTH + PLOT_WIDTH * threshold_days / maximum, 2),
        "threshold_label": f"上限 {threshold_days:g} 天",
        "bars": bars,
    }
