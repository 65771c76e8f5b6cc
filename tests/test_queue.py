"""The work queue (review.queue): what waits for a reviewer, in order, with the working days waited against the
review time limit; taking a record in one click (audited, refused outside the authority); the same queries at
10 and 500 records."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from backfill_portal.url_makers import url_maker
from projects.models import AuditEvent, Project, Status
from publicity.timing import BEIJING
from review import queue
from review.models import Assignment

from .builders import make_project, make_reviewer


def at(day: datetime.date, hour=10):
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=BEIJING)


def record(clerk, authority, name, submitted_at, status=Status.SUBMITTED):
    project = make_project(
        clerk.membership.enterprise, clerk, authority, name=name, evidence=False, stages=False
    )
    Project.objects.filter(pk=project.pk).update(status=status, submitted_at=submitted_at)
    project.refresh_from_db()
    return project


def test_working_days_waited_skip_weekends_and_the_national_day_holiday():
    # 2025-09-30 (Tue) → 2025-10-10 (Fri): 1–8 October is the holiday; 11 October (Sat) is a working day.
    assert queue.working_days_between(datetime.date(2025, 9, 30), datetime.date(2025, 10, 10)) == 2
    assert (
        queue.working_days_between(datetime.date(2025, 10, 10), datetime.date(2025, 10, 13)) == 2
    )  # Sat 11th
    assert queue.working_days_between(datetime.date(2025, 10, 13), datetime.date(2025, 10, 13)) == 0


def test_the_queue_lists_mine_first_then_unassigned_oldest_first_and_not_others(
    client, clerk, reviewer, yuzhong, liangjiang
):
    today = timezone.now().astimezone(BEIJING).date()
    colleague = make_reviewer(yuzhong, username="colleague")
    old_unassigned = record(clerk, yuzhong, "最早的未分派项目", at(today - datetime.timedelta(days=60)))
    new_unassigned = record(clerk, yuzhong, "较新的未分派项目", at(today - datetime.timedelta(days=2)))
    mine = record(clerk, yuzhong, "分派给我的项目", at(today - datetime.timedelta(days=1)))
    theirs = record(clerk, yuzhong, "分派给同事的项目", at(today - datetime.timedelta(days=90)))
    elsewhere = record(clerk, liangjiang, "两江新区的项目", at(today - datetime.timedelta(days=90)))
    record(clerk, yuzhong, "公示中的项目", at(today), status=Status.IN_NOTICE)
    Assignment.objects.create(project=mine, reviewer=reviewer)
    Assignment.objects.create(project=theirs, reviewer=colleague)
    client.force_login(reviewer)

    response = client.get(reverse("review:queue"))

    listed = [row.project.pk for row in response.context["rows"]]
    assert listed == [mine.pk, old_unassigned.pk, new_unassigned.pk]
    assert theirs.pk not in listed and elsewhere.pk not in listed
    body = response.content.decode()
    assert "overdue-mark" in body  # sixty calendar days are more than twenty working days
    first = response.context["rows"][1]
    assert first.overdue and first.waited > 20
    assert dict((key, count) for key, _label, count in response.context["tabs"]) == {
        "todo": 3,
        "notice": 1,
        "objected": 0,
        "failed": 0,
        "corrections": 0,
    }


def test_the_limit_is_a_setting(client, clerk, reviewer, yuzhong, settings):
    settings.REVIEW_TIME_LIMIT_WORKING_DAYS = 200
    today = timezone.now().astimezone(BEIJING).date()
    record(clerk, yuzhong, "等待较久的项目", at(today - datetime.timedelta(days=60)))
    client.force_login(reviewer)

    body = client.get(reverse("review:queue")).content.decode()

    assert "overdue-mark" not in body and "审核时限为200个工作日" in body


def test_taking_a_record_assigns_it_to_me_in_one_click_and_is_audited(client, clerk, reviewer, yuzhong):
    project = record(clerk, yuzhong, "待领取的项目", timezone.now())
    client.force_login(reviewer)

    response = client.post(reverse("review:take", args=[project.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:projects_project_change", args=[project.pk])
    assert Assignment.objects.get(project=project).reviewer == reviewer
    assert AuditEvent.objects.filter(action="review.assign", project=project, actor=reviewer).exists()


def test_taking_another_authoritys_record_is_refused_audited_and_changes_nothing(
    client, clerk, other_reviewer, yuzhong
):
    project = record(clerk, yuzhong, "渝中区的项目", timezone.now())
    client.force_login(other_reviewer)

    response = client.post(reverse("review:take", args=[project.pk]), follow=True)

    assert "只能分派本辖区内的项目" in response.content.decode()
    assert not Assignment.objects.filter(project=project).exists()
    assert AuditEvent.objects.filter(action="review.assign.refused", actor=other_reviewer).exists()


def test_the_queue_reads_the_same_queries_at_10_and_500_records(client, clerk, reviewer, yuzhong):
    enterprise = clerk.membership.enterprise
    base = record(clerk, yuzhong, "模板项目", timezone.now())

    def add(count, start):
        Project.objects.bulk_create(
            Project(
                enterprise=enterprise,
                authority=yuzhong,
                county_code=base.county_code,
                project_number=f"50010399{start + n:08d}",
                name=f"批量项目{start + n}",
                address=base.address,
                project_type=base.project_type,
                is_completed=True,
                start_basis=base.start_basis,
                created_by=clerk,
                status=Status.SUBMITTED,
                submitted_at=timezone.now() - datetime.timedelta(days=n % 40),
            )
            for n in range(count)
        )

    client.force_login(reviewer)

    def count():
        client.get(reverse("review:queue"))
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("review:queue"))
        assert response.status_code == 200
        return len(queries), len(response.context["rows"])

    add(9, 0)
    at_10, rows_10 = count()
    add(490, 100)
    at_500, rows_500 = count()
    assert (rows_10, rows_500) == (10, 50)
    assert at_10 == at_500, (at_10, at_500)
    # The tab's count is counted once: the pager and the caption take it from the tab (review.views.work_queue).
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("review:queue"))
    counts = [  # one a tab (the header's unread notifications aside)
        q["sql"]
        for q in queries
        if q["sql"].startswith("SELECT COUNT(*)") and "projects_notification" not in q["sql"]
    ]
    assert len(counts) == len(response.context["tabs"]), counts
    assert (
        response.context["page"].paginator.count
        == dict((k, n) for k, _l, n in response.context["tabs"])["todo"]
    )
    assert f"共{response.context['page'].paginator.count}个项目" in response.content.decode()


@pytest.mark.parametrize("who", ["city", "superuser"])
def test_city_users_see_their_counts_and_failed_deliveries(client, request, who, db):
    from django.contrib.auth import get_user_model

    user = (
        request.getfixturevalue("city")
        if who == "city"
        else get_user_model().objects.create_superuser("root", "root@example.com", "x")
    )
    client.force_login(user)

    response = client.get(reverse("review:queue"))

    assert response.status_code == 200
    # A superuser also decides corrections and checks every department's items (tests/test_queue_city.py).
    expected = ["failed"] if who == "city" else ["corrections", "spot_checks", "failed"]
    assert [key for key, _label, _count in response.context["tabs"]] == expected


# The rows' loop as the template had it (a {% url %} a link): the reference for the rows built in Python.
OLD_ROWS_LOOP = """  {% for row in rows %}{% with p=row.project %}
    <tr class="{% if row.overdue and tab == 'todo' %}overdue{% endif %}" data-project="{{ p.pk }}">
      <td data-label="项目编号">{{ p.project_number }}</td>
      <td data-label="项目名称"><a href="{% url 'admin:projects_project_change' p.pk %}">{{ p.name }}</a></td>
      <td data-label="补录企业">{{ p.enterprise.name }}</td>
      <td data-label="提交时间">{{ p.submitted_at|date:"Y-m-d H:i" }}</td>
      {% if tab == "todo" %}<td class="waited" data-label="已等待">{{ row.waited }}个工作日{% if row.overdue %} <strong class="overdue-mark">已超期{{ row.overdue_by }}日</strong>{% else %}<span class="muted">（剩{{ row.days_left }}日）</span>{% endif %}</td>{% endif %}
      <td data-label="审核人员">{{ row.reviewer_name|default:"未分派" }}</td>
      <td data-label="操作">{% if may_take and not row.reviewer_name %}<form method="post" action="{% url 'review:take' p.pk %}" class="inline">{% csrf_token %}<button type="submit" aria-label="领取并审核{{ p.name }}">领取</button></form>{% else %}<a href="{% url 'admin:projects_project_change' p.pk %}">查看</a>{% endif %}</td>
    </tr>
  {% endwith %}{% empty %}
    <tr><td colspan="7" class="muted">没有{{ tab_label }}的项目。</td></tr>
  {% endfor %}"""  # noqa: E501
NEW_ROWS = """  {% if rows %}{{ rows_html }}{% else %}
    <tr><td colspan="7" class="muted">没有{{ tab_label }}的项目。</td></tr>
  {% endif %}"""


@pytest.mark.parametrize("tab", ["todo", "notice", "objected"])
def test_the_rows_are_the_templates_loop_byte_for_byte(client, clerk, reviewer, yuzhong, tab):
    """review.queue.rows_html and backfill_portal.url_makers.url_maker: the page is what the template's loop gave with a {% url %} per link,
    for a record to take (its form and CSRF token), one assigned, one overdue, a name to escape, and a tab without
    the waiting column or the take button."""
    import re

    from django.template import Context, engines

    today = timezone.now().astimezone(BEIJING).date()
    record(clerk, yuzhong, "可领取的项目 <script>&\"'", at(today - datetime.timedelta(days=3)))
    record(clerk, yuzhong, "超期的项目", at(today - datetime.timedelta(days=90)))
    taken = record(clerk, yuzhong, "已分派的项目", at(today - datetime.timedelta(days=2)))
    Assignment.objects.create(project=taken, reviewer=reviewer)
    record(
        clerk, yuzhong, "公示中的项目 <b>", at(today - datetime.timedelta(days=20)), status=Status.IN_NOTICE
    )
    client.force_login(reviewer)
    response = client.get(reverse("review:queue") + f"?tab={tab}")
    engine = engines["django"].engine
    source = engine.get_template("review/queue.html").source
    assert NEW_ROWS in source
    context = response.context[0] if isinstance(response.context, list) else response.context
    expected = engine.from_string(source.replace(NEW_ROWS, OLD_ROWS_LOOP)).render(
        Context(context.flatten(), autoescape=True)
    )
    token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    body = response.content.decode()
    assert token.sub("T", body) == token.sub("T", expected)
    assert len(response.context["rows"]) == {"todo": 3, "notice": 1, "objected": 0}[tab]
    if tab == "todo":
        assert (
            "&lt;script&gt;&amp;&quot;&#x27;" in body and "overdue-mark" in body and "领取</button>" in body
        )
    for pk in (1, 9, 10, 123456789, 2**62):
        assert url_maker("review:take")(pk) == reverse("review:take", args=[pk])
        assert url_maker("publicity:notice_detail")(pk) == reverse("publicity:notice_detail", args=[pk])
