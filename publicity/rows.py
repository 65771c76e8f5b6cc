"""The rows of the public lists as HTML, built in Python (bench/README.md: the template loop cost about a third of an
uncached /notices/, nine variables a row each resolved, localised and escaped by the template engine). The output
is byte for byte what the loop in the templates gave (tests/test_public_rows.py keeps that loop as the reference);
every value is escaped as the template escaped it (django.utils.html.escape is html.escape), except in notice_rows
the dates, which the view writes itself from digits and escaping would leave as they are."""

from html import escape

from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime

from backfill_portal.url_makers import identifier_pk_url_maker, identifier_url_maker


def notice_rows(rows) -> SafeString:
    parts = []
    for row in rows:
        if row.paused:
            end = (
                '<td data-label="公示截止"><span class="status status-objected">暂停计时（异议处理中）</span></td>'
                f'<td class="days-left" data-label="剩余天数">剩余{row.days_left}天（暂停）</td>\n      '
            )
        else:
            end = (
                f'<td data-label="公示截止">{row.deadline}</td>'
                f'<td class="days-left" data-label="剩余天数">剩余{row.days_left}天</td>'
            )
        parts.append(
            "\n    <tr>\n"
            f'      <td data-label="项目编号">{escape(row.project_number)}</td>\n'
            f'      <td data-label="项目名称"><a href="{escape(row.url)}">{escape(row.project_name)}</a></td>\n'
            f'      <td data-label="补录企业">{escape(row.enterprise_name)}</td>\n'
            f'      <td data-label="审核部门">{escape(row.authority_name)}</td>\n'
            f'      <td data-label="项目类型">{escape(row.project_type)}</td>\n'
            f'      <td data-label="公示开始">{row.date}</td>\n'
            f"      {end}\n"
            "    </tr>\n  "
        )
    return mark_safe("".join(parts))


def library_rows(rows) -> SafeString:
    return mark_safe(
        "".join(
            "\n    <tr>\n"
            f'      <td data-label="全国平台编号">{escape(row.national_id)}</td>\n'
            f'      <td data-label="项目编号">{escape(row.project_number)}</td>\n'
            f'      <td data-label="项目名称"><a href="{escape(row.url)}">{escape(row.project_name)}</a></td>\n'
            f'      <td data-label="补录企业">{escape(row.enterprise_name)}</td>\n'
            f'      <td data-label="审核部门">{escape(row.authority_name)}</td>\n'
            f'      <td data-label="项目类型">{escape(row.project_type)}</td>\n'
            f'      <td data-label="入库时间">{escape(row.date)}</td>\n'
            "    </tr>\n  "
            for row in rows
        )
    )


def performance_cards(records, *, show_enterprise: bool) -> list[SafeString]:
    """The 业绩 pages' records (publicity.performance.Record, each with its figures, document numbers and, on an
    enterprise's page, its published versions), each as public/_performance_record.html gave it: that template's
    tags, URL reversals and filters were two thirds of an enterprise's page (bench/README.md). The pages' loops
    print them."""
    detail_url = identifier_url_maker("publicity:library_detail")
    version_url = identifier_pk_url_maker("publicity:library_version")
    enterprise_url = identifier_url_maker("publicity:performance_enterprise")
    cards = []
    for record in records:
        entry = record.entry
        national_id = entry.national_id
        enterprise = (
            f'<dt>补录企业</dt><dd><a href="{escape(enterprise_url(entry.enterprise_credit_code))}">'
            f"{escape(entry.enterprise_name)}</a>（{escape(entry.enterprise_credit_code)}）</dd>"
            if show_enterprise
            else ""
        )
        corrected = f"（{_day(entry.updated_at)}更正）" if entry.updated_at else ""
        figures = "".join(
            f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>" for label, value in record.figures
        )
        documents = "".join(
            f"<dt>{escape(stage)}文件编号</dt><dd>{escape(str(number))}</dd>"
            for stage, number in record.documents
        )
        versions = ""
        if record.versions:
            links = "、".join(
                f'<a href="{escape(version_url(national_id, version))}">第{version}版</a>（{escape(state)}）'
                for version, state in record.versions
            )
            versions = f'\n  <p class="versions">公示版本：{links}</p>\n  '
        cards.append(
            mark_safe(
                f'<article class="card record" id="record-{escape(national_id)}">\n'
                f'  <h3><a href="{escape(detail_url(national_id))}">{escape(entry.project_name)}</a></h3>\n'
                '  <dl class="facts">\n'
                f"    <dt>项目编号</dt><dd>{escape(entry.project_number)}</dd>\n"
                f"    <dt>全国平台编号</dt><dd>{escape(national_id)}</dd>\n"
                f"    {enterprise}\n"
                f"    <dt>入库时间</dt><dd>{_day(entry.entered_at)}{corrected}</dd>\n"
                f"    {figures}\n"
                f"    {documents}\n"
                "  </dl>\n"
                f"  {versions}\n"
                "</article>\n"
            )
        )
    return cards


def _day(moment) -> str:
    """As the template's |date:"Y-m-d" gives it: the day in the current time zone."""
    return f"{localtime(moment):%Y-%m-%d}"
