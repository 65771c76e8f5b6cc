"""The public lists' rows built in Python (publicity/rows.py) are byte for byte what the templates' loop gave, escaping
included: the loop is kept here as the reference and rendered by Django's template engine beside them."""

from django.template import engines

from publicity import rows
from publicity.views import Row

NOTICE_LOOP = """  {% for row in rows %}
    <tr>
      <td data-label="项目编号">{{ row.project_number }}</td>
      <td data-label="项目名称"><a href="{{ row.url }}">{{ row.project_name }}</a></td>
      <td data-label="补录企业">{{ row.enterprise_name }}</td>
      <td data-label="审核部门">{{ row.authority_name }}</td>
      <td data-label="项目类型">{{ row.project_type }}</td>
      <td data-label="公示开始">{{ row.date }}</td>
      {% if row.paused %}<td data-label="公示截止"><span class="status status-objected">暂停计时（异议处理中）</span></td><td class="days-left" data-label="剩余天数">剩余{{ row.days_left }}天（暂停）</td>
      {% else %}<td data-label="公示截止">{{ row.deadline }}</td><td class="days-left" data-label="剩余天数">剩余{{ row.days_left }}天</td>{% endif %}
    </tr>
  {% empty %}EMPTY{% endfor %}"""  # noqa: E501
LIBRARY_LOOP = """  {% for row in rows %}
    <tr>
      <td data-label="全国平台编号">{{ row.national_id }}</td>
      <td data-label="项目编号">{{ row.project_number }}</td>
      <td data-label="项目名称"><a href="{{ row.url }}">{{ row.project_name }}</a></td>
      <td data-label="补录企业">{{ row.enterprise_name }}</td>
      <td data-label="审核部门">{{ row.authority_name }}</td>
      <td data-label="项目类型">{{ row.project_type }}</td>
      <td data-label="入库时间">{{ row.date }}</td>
    </tr>
  {% empty %}EMPTY{% endfor %}"""
NEW = "  {% if rows %}{{ rows_html }}{% else %}EMPTY{% endif %}"

HOSTILE = "<script>alert('x')</script> & \"引号\" 渝中区观音桥住宅小区二期工程"


def sample_rows():
    return [
        Row(
            url="/notices/1/?a=1&b=<2>",
            project_number="500103250101001",
            project_name=HOSTILE,
            enterprise_name="重庆宏达建设工程有限公司 & <b>",
            authority_name="渝中区住房和城乡建设委员会",
            project_type="房屋建筑工程",
            date="2026-12-01",
            deadline="2026-12-11 24:00",
            days_left=9,
            national_id="NP-'1'",
        ),
        Row(
            url="/notices/2/",
            project_number="500105250101002",
            project_name="普通工程",
            enterprise_name="重庆嘉陵市政工程有限公司",
            authority_name="",
            project_type="市政工程",
            date="2026-11-30",
            deadline="2026-12-10 24:00",
            days_left=1234,
            paused=True,
            national_id="",
        ),
    ]


def render(source, rows_list, rows_html=""):
    template = engines["django"].from_string(source)
    return template.render({"rows": rows_list, "rows_html": rows_html})


def test_notice_rows_are_the_templates_loop_byte_for_byte():
    sample = sample_rows()
    assert render(NEW, sample, rows.notice_rows(sample)) == render(NOTICE_LOOP, sample)
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in rows.notice_rows(sample)
    assert render(NEW, [], rows.notice_rows([])) == render(NOTICE_LOOP, []) == "  EMPTY"


def test_library_rows_are_the_templates_loop_byte_for_byte():
    sample = sample_rows()
    assert render(NEW, sample, rows.library_rows(sample)) == render(LIBRARY_LOOP, sample)
    assert render(NEW, [], rows.library_rows([])) == render(LIBRARY_LOOP, []) == "  EMPTY"


def test_the_templates_use_the_built_rows():
    for name in ("publicity/notice_list.html", "publicity/library_list.html"):
        source = engines["django"].get_template(name).template.source
        assert "{{ rows_html }}" in source and "{% for row in rows %}" not in source, name


def test_the_search_forms_options_are_what_format_html_join_gave():
    from collections import namedtuple

    from django.utils.html import format_html_join
    from django.utils.safestring import mark_safe

    from publicity.forms import PublicSearchForm

    Authority = namedtuple("Authority", "id code name")
    authorities = [Authority(1, "500103", "渝中区<住建委> & '开发区'"), Authority(2, "500105", "江北区")]
    for data in (None, {"authority": "500103", "project_type": "municipal_general"}, {"authority": '"><x'}):
        form = PublicSearchForm(data, authorities=authorities)
        for name in ("authority", "project_type"):
            selected = form.value(name)
            reference = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                (
                    (value, mark_safe(" selected") if str(value) == selected else "", label)
                    for value, label in form.fields[name].choices
                ),
            )
            assert form.options(name) == reference, (data, name)
    assert " selected>渝中区&lt;住建委&gt; &amp; &#x27;开发区&#x27;</option>" in PublicSearchForm(
        {"authority": "500103"}, authorities=authorities
    ).options("authority")


def test_the_kept_options_follow_the_authorities_and_keep_nothing_typed():
    from collections import namedtuple

    from publicity import forms
    from publicity.forms import PublicSearchForm

    Authority = namedtuple("Authority", "id code name")
    before = [Authority(1, "500103", "渝中区"), Authority(2, "500105", "江北区")]
    after = [Authority(1, "500103", "渝中区住建委"), Authority(3, "500106", "沙坪坝区")]

    assert "渝中区</option>" in PublicSearchForm(None, authorities=before).options("authority")
    renamed = PublicSearchForm({"authority": "500103"}, authorities=after).options("authority")
    assert '<option value="500103" selected>渝中区住建委</option>' in renamed and "江北区" not in renamed
    assert "江北区" not in PublicSearchForm(None, authorities=after).options("authority")
    assert PublicSearchForm({"authority": "500105"}, authorities=after).is_valid() is False

    typed = PublicSearchForm({"authority": "typed-by-a-visitor"}, authorities=after).options("authority")
    assert " selected" not in typed
    assert not any("typed-by-a-visitor" in key for key in forms._kept_options)


def test_the_search_forms_shared_fields_validate_as_the_fields_declared_on_a_form_did():
    """PublicSearchForm's fields are made once per list of authorities and shared (publicity.forms.search_fields):
    each answer (errors in their order, cleaned values, filters) is that of the form as it was declared before,
    its fields deep-copied for each form and the authorities' choices set on the copy."""
    from collections import namedtuple

    from django import forms as django_forms

    from projects.forms import DateField
    from projects.models import IN_SCOPE_PROJECT_TYPES, ProjectType
    from publicity.forms import PublicSearchForm

    class DeclaredSearchForm(django_forms.Form):
        q = django_forms.CharField(label="搜索", required=False, max_length=100)
        authority = django_forms.ChoiceField(label="审核部门", required=False)
        project_type = django_forms.ChoiceField(
            label="项目类型",
            required=False,
            choices=[("", "全部类型")]
            + [(t.value, t.label) for t in ProjectType if t in IN_SCOPE_PROJECT_TYPES],
        )
        date_from = DateField(label="起始日期", required=False)
        date_to = DateField(label="截止日期", required=False)

        def __init__(self, *args, authorities=(), **kwargs):
            super().__init__(*args, **kwargs)
            self.fields["authority"].choices = [("", "全部审核部门")] + [
                (a.code, a.name) for a in authorities
            ]

    Authority = namedtuple("Authority", "id code name")
    authorities = [Authority(1, "500103", "渝中区"), Authority(2, "500105", "江北区")]
    for data in (
        None,
        {},
        {
            "q": " 观音桥 ",
            "authority": "500105",
            "project_type": "municipal_general",
            "date_from": "2025-01-02",
        },
        {
            "q": "x" * 101,
            "authority": "500199",
            "project_type": "nope",
            "date_from": "2025-13-01",
            "date_to": "x",
        },
        {"authority": " 500103", "date_from": "1800-01-01", "date_to": "2999-01-01"},
    ):
        new, old = (
            PublicSearchForm(data, authorities=authorities),
            DeclaredSearchForm(data, authorities=authorities),
        )
        assert new.is_valid() == old.is_valid(), data
        assert [(field.name, field.label, field.errors) for field in new] == [
            (field.name, field.label, field.errors) for field in old
        ], data
        assert new.cleaned_data == old.cleaned_data if new.is_bound else not old.is_bound
    first, second = (PublicSearchForm({"authority": "500103"}, authorities=authorities) for _ in range(2))
    assert first.fields is second.fields and first.is_valid() and second.is_valid()


def test_the_list_rows_days_and_dates_are_the_notices_own():
    """views._notice_rows works the days left and the end out once for notices that share them: the same as
    Notice.days_left and Notice.end_text for each, running and paused."""
    import datetime
    from types import SimpleNamespace

    from django.utils import timezone

    from publicity import timing
    from publicity.models import Notice, NoticeState
    from publicity.views import _notice_rows

    start = timezone.now() - datetime.timedelta(days=3)
    notices = [
        SimpleNamespace(
            id=index,
            state=state,
            starts_at=start + datetime.timedelta(hours=hours),
            ends_at=timing.notice_end(start + datetime.timedelta(hours=hours)),
            remaining_seconds=remaining,
            project_number=f"50010325010100{index}",
            project_name="工程",
            enterprise_name="企业",
            authority_id=1,
            project_type="building_general",
        )
        for index, (state, hours, remaining) in enumerate(
            [
                (NoticeState.RUNNING, 0, None),
                (NoticeState.RUNNING, 1, None),
                (NoticeState.RUNNING, -30, None),
                (NoticeState.PAUSED, 0, 5 * 86400),
                (NoticeState.PAUSED, 2, 86400),
                (NoticeState.RUNNING, -24 * 20, None),
            ]
        )
    ]

    rows = _notice_rows(notices, {1: "渝中区"})

    for notice, row in zip(notices, rows, strict=True):
        model = Notice(
            state=notice.state,
            starts_at=notice.starts_at,
            ends_at=notice.ends_at,
            remaining_seconds=notice.remaining_seconds,
        )
        assert row.days_left == model.days_left(), notice
        assert row.deadline == model.end_text
        assert row.date == f"{notice.starts_at.astimezone(timing.BEIJING):%Y-%m-%d}"
        assert row.paused == (notice.state == NoticeState.PAUSED)
        assert row.url == f"/notices/{notice.id}/"


def test_the_library_links_are_what_reverse_gives():
    import pytest
    from django.urls import NoReverseMatch, reverse

    from backfill_portal.url_makers import identifier_pk_url_maker, identifier_url_maker

    detail_url = identifier_url_maker("publicity:library_detail")
    for national_id in ("NP-500103-2026-000001", "a.b_c-9", "Z" * 64, "1"):
        assert detail_url(national_id) == reverse("publicity:library_detail", args=[national_id])
    for refused in ("", "with space", "<x>", "Z" * 65, "渝"):
        with pytest.raises(NoReverseMatch):
            detail_url(refused)
    version_url = identifier_pk_url_maker("publicity:library_version")
    for national_id, version in (
        ("NP-500103-2026-000001", 1),
        ("a.b_c-9", 12),
        ("Z" * 64, 918273645546372819),
    ):
        assert version_url(national_id, version) == reverse(
            "publicity:library_version", args=[national_id, version]
        )
    for refused in ("", "with space", "Z" * 65, "渝"):
        with pytest.raises(NoReverseMatch):
            version_url(refused, 1)


def test_a_kept_url_maker_follows_the_script_prefix():
    from django.urls import get_script_prefix, reverse, set_script_prefix

    from backfill_portal.url_makers import identifier_url_maker, url_maker

    assert url_maker("publicity:notice_detail") is url_maker("publicity:notice_detail")  # kept
    before = get_script_prefix()
    set_script_prefix("/portal/")
    try:
        assert url_maker("publicity:notice_detail")(5) == reverse("publicity:notice_detail", args=[5])
        assert url_maker("publicity:notice_detail")(5) == "/portal/notices/5/"
        assert identifier_url_maker("publicity:library_detail")("NP-1") == "/portal/library/NP-1/"
    finally:
        set_script_prefix(before)
    assert url_maker("publicity:notice_detail")(5) == "/notices/5/"
    assert identifier_url_maker("publicity:library_detail")("NP-1") == "/library/NP-1/"


def test_the_kept_url_makers_are_bounded_whatever_script_prefixes_come():
    from django.urls import get_script_prefix, set_script_prefix

    from backfill_portal import url_makers

    before = get_script_prefix()
    try:
        for n in range(url_makers.KEPT_LIMIT + 10):
            set_script_prefix(f"/p{n}/")
            assert url_makers.url_maker("publicity:notice_detail")(5) == f"/p{n}/notices/5/"
            assert len(url_makers._kept) <= url_makers.KEPT_LIMIT
    finally:
        set_script_prefix(before)


# public/_performance_record.html as the 业绩 pages included it for each record, before publicity.rows built them.
PERFORMANCE_RECORD = """<article class="card record" id="record-{{ record.entry.national_id }}">
  <h3><a href="{% url 'publicity:library_detail' record.entry.national_id %}">{{ record.entry.project_name }}</a></h3>
  <dl class="facts">
    <dt>项目编号</dt><dd>{{ record.entry.project_number }}</dd>
    <dt>全国平台编号</dt><dd>{{ record.entry.national_id }}</dd>
    {% if show_enterprise %}<dt>补录企业</dt><dd><a href="{% url 'publicity:performance_enterprise' record.entry.enterprise_credit_code %}">{{ record.entry.enterprise_name }}</a>（{{ record.entry.enterprise_credit_code }}）</dd>{% endif %}
    <dt>入库时间</dt><dd>{{ record.entry.entered_at|date:"Y-m-d" }}{% if record.entry.updated_at %}（{{ record.entry.updated_at|date:"Y-m-d" }}更正）{% endif %}</dd>
    {% for label, value in record.figures %}<dt>{{ label }}</dt><dd>{{ value }}</dd>{% endfor %}
    {% for stage, number in record.documents %}<dt>{{ stage }}文件编号</dt><dd>{{ number }}</dd>{% endfor %}
  </dl>
  {% if record.versions %}
  <p class="versions">公示版本：{% for version in record.versions %}<a href="{% url 'publicity:library_version' record.entry.national_id version.version %}">第{{ version.version }}版</a>{% if version.version == record.entry.snapshot.version %}（当前）{% else %}（{{ version.notice.get_state_display|default:"未公示" }}）{% endif %}{% if not forloop.last %}、{% endif %}{% endfor %}</p>
  {% endif %}
</article>
"""  # noqa: E501


def sample_records():
    import datetime

    from publicity.models import LibraryEntry, Notice, NoticeState, Snapshot
    from publicity.performance import Record, document_numbers, key_figures

    late = datetime.datetime(2026, 12, 1, 17, 30, tzinfo=datetime.UTC)  # the next day in Beijing
    current = Snapshot(id=3, version=3)
    closed, unnoticed = Snapshot(id=1, version=1), Snapshot(id=2, version=2)
    Notice(snapshot=closed, state=NoticeState.CLOSED)  # and closed.notice is it
    for snapshot in (current, unnoticed):  # as select_related() leaves a snapshot without one
        Snapshot.notice.related.set_cached_value(snapshot, None)
    content = {
        "project": {"total_investment": "15000000.00", "total_area": ""},
        "stages": {"tendering": {"award_amount": "<1>", "tender_number": "ZB & 'x'"}, "permit": None},
    }
    records = []
    for n, (updated_at, versions) in enumerate(
        [(late, [current, unnoticed, closed]), (None, []), (None, [current])]
    ):
        entry = LibraryEntry(
            id=n + 1,
            national_id=["NP-500103-0001", "NP_1.a", "NP-500103-0003"][n],
            project_number="500103250101001",
            project_name=HOSTILE,
            enterprise_name="重庆宏达建设工程有限公司 & <b>",
            enterprise_credit_code="91500103MB0000000T",
            entered_at=late - datetime.timedelta(days=n),
            updated_at=updated_at,
            snapshot=current,
        )
        record = Record(entry=entry, figures=key_figures(content), documents=document_numbers(content))
        record.versions = versions
        records.append(record)
    return records


def as_cards_take_them(record):
    """The record with its versions as publicity.performance gives them to performance_cards."""
    from dataclasses import replace

    from publicity.performance import version_state

    current = record.entry.snapshot.version
    return replace(
        record,
        versions=[
            (s.version, version_state(s.version, current, getattr(s, "notice", None) and s.notice.state))
            for s in record.versions
        ],
    )


def test_the_performance_cards_are_the_records_template_byte_for_byte():
    """publicity.rows.performance_cards gives what the included template gave: escaping, dates in Beijing, an
    earlier version without a notice, with and without the enterprise."""
    template = engines["django"].from_string(PERFORMANCE_RECORD)
    records = sample_records()
    for show_enterprise in (True, False):
        reference = [
            template.render({"record": record, "show_enterprise": show_enterprise}) for record in records
        ]
        cards = rows.performance_cards(map(as_cards_take_them, records), show_enterprise=show_enterprise)
        assert cards == reference
    card = rows.performance_cards(map(as_cards_take_them, records), show_enterprise=True)[0]
    assert "（当前）、" in card and "（未公示）、" in card and "（公示期满）</a>" not in card
    assert "第1版</a>（公示期满）</p>" in card and "2026-12-02（2026-12-02更正）" in card
