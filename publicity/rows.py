"""The rows of the public lists as HTML, built in Python (bench/README.md: the template loop cost about a third of an
uncached /notices/, nine variables a row each resolved, localised and escaped by the template engine). The output
is byte for byte what the loop in the templates gave (tests/test_public_rows.py keeps that loop as the reference);
every value is escaped as the template escaped it (django.utils.html.escape is html.escape), except in notice_rows
the dates, which the view writes itself from digits and escaping would leave as they are."""

from html import escape

from django.utils.safestring import SafeString, mark_safe


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
