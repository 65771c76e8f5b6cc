"""The public pages (no login): the notice list with search and filters, the notice page and its objection form
(honeypot, throttling, evidence checked by content), the objector's lookup, the national library — what they
show, what they never show, and a number of SQL queries that does not grow with the data."""

import datetime
import json
import re

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from projects import services as project_services
from projects.audit import Actor
from projects.models import Project, ProjectType, Status
from publicity import selectors, services
from publicity.models import LibraryEntry, Notice, NoticeState, Objection, ObjectionStatus, OutboxMessage
from publicity.snapshots import mask
from publicity.timing import BEIJING
from review import services as review_services
from tests.builders import (
    CHIEF_SUPERVISOR_ID,
    EXE_BYTES,
    PDF_BYTES,
    PROJECT_MANAGER_ID,
    EnterpriseFactory,
    make_enterprise_user,
    make_project,
    make_reviewer,
)
from tests.needs import needs_service

pytestmark = pytest.mark.django_db

CONTACT_PHONE = "13912345678"  # the enterprise's private phone
OBJECTOR_CONTACT = "13787654321"  # the objector's, private too


# ---------------------------------------------------------------- building notices the real way


@pytest.fixture
def jiangbei(authorities):
    return authorities["500105"]


@pytest.fixture
def clerk(db):
    enterprise = EnterpriseFactory(name="重庆渝州建工集团有限公司", contact_phone=CONTACT_PHONE)
    return make_enterprise_user(enterprise=enterprise, username="clerk")


@pytest.fixture
def reviewers(yuzhong, jiangbei):
    return {
        yuzhong.pk: make_reviewer(yuzhong, username="yz-reviewer"),
        jiangbei.pk: make_reviewer(jiangbei, username="jb-reviewer"),
    }


@pytest.fixture
def notice_of(clerk, reviewers, yuzhong, open_windows):
    """Submit a clean record and approve it as its district's reviewer: the notice starts (the real path)."""

    def build(name="渝中区示范综合楼工程", authority=None, user=None, **overrides):
        user = user or clerk
        authority = authority or yuzhong
        project = make_project(user.membership.enterprise, user, authority, name=name, **overrides)
        project = project_services.submit_project(actor=Actor(user=user), project=project)
        review_services.approve(actor=Actor(user=reviewers[authority.pk]), project=project)
        return Notice.objects.select_related("snapshot").get(project=project)

    return build


def quick_notice(clerk, authority, name, n=0):
    """A noticed record without the review steps (for volume): in_notice, then the notice started by the service."""
    project = make_project(
        clerk.membership.enterprise, clerk, authority, name=name, status=Status.IN_NOTICE, evidence=False
    )
    return services.start_notice(actor=Actor(user=clerk), project=project, reason="审核通过")


def expire(notice):
    """This notice's time is up (and only this one's): the beat sweep closes it."""
    Notice.objects.filter(pk=notice.pk).update(ends_at=timezone.now() - datetime.timedelta(seconds=1))
    assert services.close_expired_notices() == 1


def close_and_enter(notice, national_id):
    """The notice expires, the sweep closes it, the platform accepts it: the record is in the library."""
    expire(notice)
    message = OutboxMessage.objects.get(snapshot=notice.snapshot)
    services.mark_delivered(message.pk, national_id)
    return LibraryEntry.objects.select_related("snapshot").get(project=notice.project)


def objection_data(**overrides):
    return {
        "name": "王某某",
        "contact": OBJECTOR_CONTACT,
        "reason": "该项目实际施工单位并非补录企业，公示的中标信息与事实不符。",
        "website": "",
        **overrides,
    }


def notice_url(notice):
    return reverse("publicity:notice_detail", args=[notice.pk])


def page_text(response) -> str:
    return response.content.decode()


def listed_names(response) -> list[str]:
    table = re.search(
        r'<table class="list" id="(?:notices|library)">(.*?)</table>', page_text(response), re.S
    )
    return re.findall(r'<a href="/(?:notices|library)/[^"]+">([^<]+)</a>', table.group(1))


# ---------------------------------------------------------------- the notice list


def test_it_lists_running_and_paused_notices_but_not_closed_ones(client, notice_of):
    running = notice_of(name="渝中区公示中工程")
    paused = notice_of(name="渝中区有异议工程")
    closed = notice_of(name="渝中区已期满工程")
    services.file_objection(notice_id=paused.pk, name="王某", contact=OBJECTOR_CONTACT, reason="不实")
    expire(closed)
    closed.refresh_from_db()
    assert closed.state == NoticeState.CLOSED

    response = client.get(reverse("publicity:notice_list"))

    assert response.status_code == 200
    names = listed_names(response)
    assert "渝中区公示中工程" in names and "渝中区有异议工程" in names
    assert "渝中区已期满工程" not in names
    assert "暂停计时（异议处理中）" in page_text(response)
    assert running.project_number in page_text(response)


def test_it_shows_days_left_and_the_deadline_at_24_00_beijing_time(client, notice_of):
    notice = notice_of()
    # Noon of the fourth Beijing day after today: the days counted are the three after today and that one
    # (publicity/timing.py days_left), at whatever time of day the test runs.
    today = timezone.now().astimezone(BEIJING).date()
    end = datetime.datetime.combine(today + datetime.timedelta(days=4), datetime.time(12), tzinfo=BEIJING)
    Notice.objects.filter(pk=notice.pk).update(starts_at=timezone.now(), ends_at=end)

    text = page_text(client.get(reverse("publicity:notice_list")))

    assert "剩余4天" in text
    midnight = notice_of(name="渝中区另一工程")  # notice_end(): 00:00 of the day after the 10th, Beijing
    local_end = midnight.ends_at.astimezone(BEIJING)
    assert local_end.time() == datetime.time.min
    expected = f"{local_end.date() - datetime.timedelta(days=1):%Y-%m-%d} 24:00"
    assert expected in page_text(client.get(reverse("publicity:notice_list")))


def test_it_searches_by_project_name(client, notice_of):
    notice_of(name="渝中区解放碑商务楼")
    notice_of(name="渝中区朝天门广场")

    names = listed_names(client.get(reverse("publicity:notice_list"), {"q": "解放碑"}))

    assert names == ["渝中区解放碑商务楼"]


def test_it_searches_by_enterprise_name(client, notice_of, yuzhong):
    notice_of(name="渝州建工的工程")
    other = make_enterprise_user(enterprise=EnterpriseFactory(name="重庆山城路桥有限公司"), username="other")
    notice_of(name="山城路桥的工程", user=other)

    names = listed_names(client.get(reverse("publicity:notice_list"), {"q": "山城路桥有限"}))

    assert names == ["山城路桥的工程"]


def test_a_two_character_word_is_found_in_either_name_whatever_its_case(client, notice_of):
    # Two characters have no trigram: on PostgreSQL they are looked up in the names' bigram index (publicity 0008).
    notice_of(name="渝中区鸳鸯安置房工程")
    other = make_enterprise_user(
        enterprise=EnterpriseFactory(name="重庆鸳鸯AB建设有限公司"), username="other"
    )
    notice_of(name="渝中区朝天门广场", user=other)
    notice_of(name="渝中区解放碑商务楼")

    def found(q):
        return sorted(listed_names(client.get(reverse("publicity:notice_list"), {"q": q})))

    assert found("鸳鸯") == ["渝中区朝天门广场", "渝中区鸳鸯安置房工程"]
    assert found("ab") == ["渝中区朝天门广场"]
    assert found("场重") == []  # not across the end of one name and the start of the other
    assert found("商务") == ["渝中区解放碑商务楼"]


def test_it_searches_by_exact_project_number(client, notice_of):
    wanted = notice_of(name="要找的工程")
    notice_of(name="别的工程")

    names = listed_names(client.get(reverse("publicity:notice_list"), {"q": f" {wanted.project_number} "}))

    assert names == ["要找的工程"]


def test_it_searches_by_a_whole_document_number_not_a_fragment(client, notice_of):
    wanted = notice_of(name="要找的工程")
    notice_of(name="别的工程")
    permit_number = wanted.snapshot.content["stages"]["permit"]["permit_number"]
    assert permit_number in wanted.document_numbers.split()

    assert listed_names(client.get(reverse("publicity:notice_list"), {"q": permit_number})) == ["要找的工程"]
    # A fragment of a number is not a document number: "500103" would otherwise match every record.
    assert listed_names(client.get(reverse("publicity:notice_list"), {"q": permit_number[:10]})) == []


def test_it_filters_by_authority_project_type_and_start_dates(client, notice_of, jiangbei):
    notice_of(name="渝中区房建工程")
    notice_of(name="江北区市政工程", authority=jiangbei, project_type=ProjectType.MUNICIPAL_GENERAL)
    old = notice_of(name="渝中区较早的工程")
    Notice.objects.filter(pk=old.pk).update(starts_at=datetime.datetime(2026, 1, 10, 9, 0, tzinfo=BEIJING))
    url = reverse("publicity:notice_list")

    assert listed_names(client.get(url, {"authority": "500105"})) == ["江北区市政工程"]
    assert listed_names(client.get(url, {"project_type": "municipal_general"})) == ["江北区市政工程"]
    assert listed_names(client.get(url, {"date_from": "2026-01-10", "date_to": "2026-01-10"})) == [
        "渝中区较早的工程"
    ]
    assert "渝中区较早的工程" not in listed_names(client.get(url, {"date_from": "2026-01-11"}))
    assert listed_names(client.get(url, {"authority": "500103", "project_type": "municipal_general"})) == []


def test_it_refuses_a_date_range_that_ends_before_it_starts(client, notice_of):
    notice_of()

    response = client.get(
        reverse("publicity:notice_list"), {"date_from": "2026-02-01", "date_to": "2026-01-01"}
    )

    assert "截止日期不能早于起始日期" in page_text(response)
    assert listed_names(response) == []


@pytest.mark.parametrize(
    "query",
    [
        {"date_to": "9999-12-31"},
        {"date_from": "0001-01-01"},
        {"date_from": "0001-01-01", "date_to": "9999-12-31"},
    ],
)
@pytest.mark.parametrize("page", ["publicity:notice_list", "publicity:library_list"])
def test_it_refuses_a_date_beyond_any_plausible_year_in_chinese(client, notice_of, page, query):
    close_and_enter(notice_of(name="已入库的工程"), "NP-dates")
    notice_of()

    response = client.get(reverse(page), query)

    assert response.status_code == 200
    assert "日期须在1949-10-01至2099-12-31之间。" in page_text(response)


@pytest.mark.parametrize(
    "url",
    [
        "/notices/?page=99999999999999999999999",
        "/notices/?page=-5",
        "/notices/?authority=zzz",
        "/notices/?q=%00",
        "/notices/?q=%25_",
        "/notices/?q=" + "甲" * 5000,
        "/notices/99999999999999999999999/",
        "/library/%00/",
        "/library/NP-x/v99999999999999999999999/",
        "/objections/%00/",
        "/objections/lookup/?reference=%00",
        "/objections/lookup/?reference=a%2Fb",
    ],
)
def test_forged_query_strings_and_ids_get_a_page_or_a_404_never_an_error(notice_of, url):
    close_and_enter(notice_of(name="已入库的工程"), "NP-x")
    notice_of()

    response = Client(raise_request_exception=False).get(url)

    assert response.status_code in (200, 400, 404)


def test_it_pages_by_20_without_counting(client, clerk, yuzhong):
    for n in range(21):
        quick_notice(clerk, yuzhong, f"分页测试工程{n:02d}")

    first = client.get(reverse("publicity:notice_list"))
    second = client.get(reverse("publicity:notice_list"), {"page": 2})

    assert len(listed_names(first)) == 20 and 'rel="next"' in page_text(first)
    assert listed_names(second) == ["分页测试工程00"] and 'rel="next"' not in page_text(second)
    assert 'rel="prev"' in page_text(second)
    assert "COUNT(" not in " ".join(
        q["sql"].upper() for q in _queries(client, reverse("publicity:notice_list"))
    )


def test_the_pager_keeps_the_search(client, clerk, yuzhong):
    for n in range(21):
        quick_notice(clerk, yuzhong, f"分页测试工程{n:02d}")

    text = page_text(client.get(reverse("publicity:notice_list"), {"q": "分页测试", "authority": "500103"}))

    assert 'href="?q=%E5%88%86%E9%A1%B5%E6%B5%8B%E8%AF%95&amp;authority=500103&amp;page=2"' in text


# ---------------------------------------------------------------- the notice page


def test_the_notice_page_shows_the_snapshot_its_version_and_hash(client, notice_of):
    notice = notice_of(name="渝中区解放碑商务楼")

    text = page_text(client.get(notice_url(notice)))

    assert "渝中区解放碑商务楼" in text
    assert notice.snapshot.content_hash in text
    assert f"第{notice.snapshot.version}版" in text
    assert f"剩余{notice.days_left()}天" in text
    assert "项目招投标" in text and "施工许可" in text  # the six stages' sections
    assert 'id="objection-form"' in text


def test_the_notice_page_never_shows_phones_id_numbers_or_evidence(client, notice_of):
    notice = notice_of()

    text = page_text(client.get(notice_url(notice)))

    assert CONTACT_PHONE not in text
    assert PROJECT_MANAGER_ID not in text and CHIEF_SUPERVISOR_ID not in text
    assert mask(PROJECT_MANAGER_ID) in text and mask(CHIEF_SUPERVISOR_ID) in text
    assert "/evidence/" not in text
    evidence = list(notice.project.evidence.all())
    assert len(evidence) == 6
    for item in evidence:
        assert item.original_name not in text and item.file.name not in text and item.sha256 not in text


def test_a_closed_or_cancelled_notice_is_not_found(client, notice_of, reviewers, yuzhong):
    closed = notice_of(name="已期满工程")
    expire(closed)
    cancelled = notice_of(name="异议成立工程")
    objection = services.file_objection(notice_id=cancelled.pk, name="王某", contact="1", reason="不实")
    services.uphold_objection(
        actor=Actor(user=reviewers[yuzhong.pk]), objection_id=objection.pk, outcome="经核实，异议成立。"
    )

    assert client.get(notice_url(closed)).status_code == 404
    assert client.get(notice_url(cancelled)).status_code == 404
    assert client.post(notice_url(closed), objection_data()).status_code == 404
    assert client.get(reverse("publicity:notice_detail", args=[999999])).status_code == 404


# ---------------------------------------------------------------- objections


def test_an_objection_is_stored_pauses_the_notice_and_shows_its_reference(client, notice_of):
    notice = notice_of()

    response = client.post(notice_url(notice), objection_data(), REMOTE_ADDR="203.0.113.7")

    assert response.status_code == 200
    objection = Objection.objects.get(notice=notice)
    assert objection.name == "王某某" and objection.contact == OBJECTOR_CONTACT
    assert objection.ip_address == "203.0.113.7"
    assert objection.status == ObjectionStatus.PENDING
    text = page_text(response)
    assert "异议已受理" in text and objection.reference in text
    assert reverse("publicity:objection_lookup") in text
    notice.refresh_from_db()
    assert notice.state == NoticeState.PAUSED
    assert Project.objects.get(pk=notice.project_id).status == Status.OBJECTED
    # The notice is still public while the objection is handled, marked as paused.
    assert "暂停计时（异议处理中）" in page_text(client.get(notice_url(notice)))


def test_an_objection_may_carry_a_pdf_kept_private(client, notice_of):
    notice = notice_of()
    evidence = SimpleUploadedFile("材料.pdf", PDF_BYTES, content_type="application/pdf")

    response = client.post(notice_url(notice), {**objection_data(), "evidence": evidence})

    assert response.status_code == 200
    objection = Objection.objects.get(notice=notice)
    assert objection.evidence_content_type == "application/pdf"
    assert objection.evidence.name.startswith(f"objections/{objection.reference}/")
    assert objection.evidence.name not in page_text(client.get(notice_url(notice)))


def test_an_executable_as_evidence_is_refused_in_chinese_and_nothing_is_stored(client, notice_of):
    notice = notice_of()
    disguised = SimpleUploadedFile("证明材料.pdf", EXE_BYTES, content_type="application/pdf")

    response = client.post(notice_url(notice), {**objection_data(), "evidence": disguised})

    assert response.status_code == 400
    assert "只接受这三种格式" in page_text(response)
    assert not Objection.objects.exists()
    notice.refresh_from_db()
    assert notice.state == NoticeState.RUNNING


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"name": ""}, "此项为必填项"),
        ({"reason": "   "}, "此项为必填项"),
        ({"contact": "x" * 101}, "不能超过100个字"),
        ({"reason": "<script>alert(1)</script>"}, ""),
    ],
)
def test_bad_input_is_refused_in_chinese_and_nothing_is_stored(client, notice_of, overrides, message):
    notice = notice_of()

    response = client.post(notice_url(notice), objection_data(**overrides))

    assert response.status_code == 400
    assert 'class="error"' in page_text(response) or 'role="alert"' in page_text(response)
    assert message in page_text(response)
    assert not Objection.objects.exists()
    notice.refresh_from_db()
    assert notice.state == NoticeState.RUNNING


def test_a_filled_honeypot_looks_like_success_but_stores_nothing(client, notice_of, caplog):
    notice = notice_of()

    response = client.post(notice_url(notice), objection_data(website="http://spam.example"))

    assert response.status_code == 200
    assert "异议已受理" in page_text(response)
    assert re.search(r'<strong id="reference">YY[0-9A-F]{10}</strong>', page_text(response))
    assert not Objection.objects.exists()
    notice.refresh_from_db()
    assert notice.state == NoticeState.RUNNING
    assert "honeypot" in caplog.text


def test_objections_over_the_rate_get_429_and_are_not_stored(client, notice_of, settings):
    settings.OBJECTION_RATE = "2/h"
    notice = notice_of()
    for _ in range(2):
        assert (
            client.post(notice_url(notice), objection_data(), REMOTE_ADDR="198.51.100.9").status_code == 200
        )

    refused = client.post(notice_url(notice), objection_data(), REMOTE_ADDR="198.51.100.9")

    assert refused.status_code == 429
    assert "操作过于频繁" in page_text(refused)
    assert Objection.objects.count() == 2
    # Another address is not affected; reading the page is never throttled.
    assert client.post(notice_url(notice), objection_data(), REMOTE_ADDR="198.51.100.10").status_code == 200
    assert client.get(notice_url(notice), REMOTE_ADDR="198.51.100.9").status_code == 200


# ---------------------------------------------------------------- the objector's lookup


def test_the_lookup_shows_status_and_outcome_but_not_the_contact(client, notice_of, reviewers, yuzhong):
    notice = notice_of()
    client.post(notice_url(notice), objection_data())
    objection = Objection.objects.get()

    found = client.get(reverse("publicity:objection_lookup"), {"reference": objection.reference.lower()})
    assert found.status_code == 302 and found.url == reverse(
        "publicity:objection_status", args=[objection.reference]
    )
    pending = page_text(client.get(found.url))
    assert "待处理" in pending and objection.reference in pending
    assert OBJECTOR_CONTACT not in pending and "王某某" not in pending

    services.dismiss_objection(
        actor=Actor(user=reviewers[yuzhong.pk]),
        objection_id=objection.pk,
        outcome="经核实，施工单位信息无误。",
    )
    handled = page_text(client.get(found.url))
    assert "异议不成立" in handled and "经核实，施工单位信息无误。" in handled
    assert OBJECTOR_CONTACT not in handled


def test_the_lookup_shows_nothing_of_other_objections(client, notice_of):
    notice = notice_of()
    mine = services.file_objection(notice_id=notice.pk, name="甲", contact="a@example.com", reason="理由甲")
    services.file_objection(notice_id=notice.pk, name="乙", contact="b@example.com", reason="理由乙独有内容")

    text = page_text(client.get(reverse("publicity:objection_status", args=[mine.reference])))

    assert mine.reference in text
    assert "理由乙独有内容" not in text and "b@example.com" not in text


def test_an_unknown_reference_is_not_found(client):
    assert client.get(reverse("publicity:objection_status", args=["YY0000000000"])).status_code == 404
    response = client.get(reverse("publicity:objection_lookup"), {"reference": "YY0000000000"})
    assert response.status_code == 404 and "未找到受理编号" in page_text(response)


# ---------------------------------------------------------------- the national library


@pytest.fixture
def entered(notice_of, reviewers, yuzhong, clerk):
    """A record whose first notice was cancelled by an upheld objection; corrected, noticed again, entered."""
    first = notice_of(name="渝中区入库工程")
    objection = services.file_objection(notice_id=first.pk, name="王某", contact="1", reason="面积不实")
    services.uphold_objection(
        actor=Actor(user=reviewers[yuzhong.pk]), objection_id=objection.pk, outcome="异议成立，请更正。"
    )
    project = project_services.submit_project(
        actor=Actor(user=clerk), project=Project.objects.get(pk=first.project_id)
    )
    review_services.approve(actor=Actor(user=reviewers[yuzhong.pk]), project=project)
    second = Notice.objects.select_related("snapshot").get(project=project, state=NoticeState.RUNNING)
    return close_and_enter(second, "NP-500103-0001")


def test_the_library_lists_entered_records_with_search_and_filters(client, entered, notice_of, jiangbei):
    in_notice = notice_of(name="渝中区仍在公示工程")
    url = reverse("publicity:library_list")

    assert listed_names(client.get(url)) == ["渝中区入库工程"]
    assert listed_names(client.get(url, {"q": "入库"})) == ["渝中区入库工程"]
    assert listed_names(client.get(url, {"q": entered.project_number})) == ["渝中区入库工程"]
    assert listed_names(client.get(url, {"authority": "500105"})) == []
    assert listed_names(client.get(url, {"project_type": "building_general"})) == ["渝中区入库工程"]
    today = timezone.localdate().isoformat()
    assert listed_names(client.get(url, {"date_from": today, "date_to": today})) == ["渝中区入库工程"]
    assert in_notice.project_number not in page_text(client.get(url))
    # Entered: no longer a notice.
    assert "渝中区入库工程" not in listed_names(client.get(reverse("publicity:notice_list")))


def test_the_library_page_shows_the_current_snapshot_and_every_version(client, entered):
    response = client.get(reverse("publicity:library_detail", args=[entered.national_id]))

    assert response.status_code == 200
    text = page_text(response)
    assert entered.national_id in text and "第2版" in text and entered.snapshot.content_hash in text
    assert "异议成立，公示终止" in text  # what became of version 1
    assert reverse("publicity:library_version", args=[entered.national_id, 1]) in text
    assert mask(PROJECT_MANAGER_ID) in text and PROJECT_MANAGER_ID not in text
    assert CONTACT_PHONE not in text and "/evidence/" not in text


def test_an_earlier_version_is_readable_at_its_own_address(client, entered):
    v1 = entered.project.snapshots.get(version=1)

    text = page_text(client.get(reverse("publicity:library_version", args=[entered.national_id, 1])))

    assert "历史版本" in text and v1.content_hash in text
    assert client.get(reverse("publicity:library_version", args=[entered.national_id, 3])).status_code == 404
    assert client.get(reverse("publicity:library_detail", args=["NP-NOPE"])).status_code == 404


# ---------------------------------------------------------------- anyone may read; nobody reads private data


def test_anonymous_visitors_reach_every_public_page_and_none_leaks_private_data(client, entered, notice_of):
    notice = notice_of(name="渝中区公开页面工程")
    objection = services.file_objection(
        notice_id=notice.pk, name="王某某", contact=OBJECTOR_CONTACT, reason="理由", ip_address="203.0.113.5"
    )
    pages = [
        reverse("publicity:notice_list"),
        reverse("publicity:notice_list") + f"?q={notice.project_number}",
        notice_url(notice),
        reverse("publicity:objection_lookup"),
        reverse("publicity:objection_status", args=[objection.reference]),
        reverse("publicity:library_list"),
        reverse("publicity:library_detail", args=[entered.national_id]),
        reverse("publicity:library_version", args=[entered.national_id, 1]),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        text = page_text(response)
        for secret in (
            CONTACT_PHONE,
            OBJECTOR_CONTACT,
            PROJECT_MANAGER_ID,
            CHIEF_SUPERVISOR_ID,
            "203.0.113.5",
        ):
            assert secret not in text, (url, secret)
        assert "/evidence/" not in text and "objections/" + objection.reference not in text, url


def test_the_benchmark_baseline_view_is_not_routed_by_default(client):
    assert client.get("/bench/bare/").status_code == 404


# ---------------------------------------------------------------- a fixed number of queries


def _queries(client, url, **params):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200, url
    return captured.captured_queries


def _counts(client, urls):
    """Queries of each page on a cold cache: what a page costs when nothing of it is cached."""
    counts = {}
    for name, (url, params) in urls.items():
        cache.clear()
        counts[name] = len(_queries(client, url, **params))
    return counts


LOCAL_MEMORY_CACHE = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def test_public_pages_run_a_fixed_number_of_queries_at_5_and_100_records(
    client, clerk, yuzhong, jiangbei, settings
):
    # The page cache (publicity/page_cache.py) in memory, so that only the pages' own queries are counted: every
    # request below is the first since the data changed, a cache miss.
    settings.CACHES = LOCAL_MEMORY_CACHE
    notices = [quick_notice(clerk, yuzhong if n % 2 else jiangbei, f"查询次数工程{n:03d}") for n in range(5)]
    for n, notice in enumerate(notices[:3]):
        close_and_enter(notice, f"NP-Q-{n:04d}")
    target = notices[4]
    urls = {
        "list": (reverse("publicity:notice_list"), {}),
        "search": (reverse("publicity:notice_list"), {"q": "查询次数", "authority": "500103"}),
        "detail": (notice_url(target), {}),
        "library": (reverse("publicity:library_list"), {}),
        "library search": (reverse("publicity:library_list"), {"q": "查询次数"}),
        "library by enterprise name": (
            reverse("publicity:library_list"),
            {"q": clerk.membership.enterprise.name},
        ),
        "library detail": (reverse("publicity:library_detail", args=["NP-Q-0000"]), {}),
    }
    at_5 = _counts(client, urls)

    more = [
        quick_notice(clerk, yuzhong if n % 2 else jiangbei, f"查询次数工程{n:03d}") for n in range(5, 100)
    ]
    for n, notice in enumerate(more[:40]):
        close_and_enter(notice, f"NP-Q-{n + 3:04d}")
    assert Notice.objects.filter(state=NoticeState.RUNNING).count() == 57
    assert LibraryEntry.objects.count() == 43
    at_100 = _counts(client, urls)

    assert at_5 == at_100
    # The authorities (for the filter and the rows' names) + the page; a detail: the notice, then its snapshot's
    # content for the sections (cached after that); a library detail: + its versions; a library search of three
    # characters or more on PostgreSQL: + the enterprise names that hold the word (publicity.selectors).
    by_names = 1 if connection.vendor == "postgresql" else 0
    assert at_100 == {
        "list": 2,
        "search": 2,
        "detail": 2,
        "library": 2,
        "library search": 2 + by_names,
        "library by enterprise name": 2 + by_names,
        "library detail": 2,
    }


# The cache is told of a change after its commit (publicity/page_cache.py): a test that commits.
@pytest.mark.django_db(transaction=True)
def test_an_anonymous_page_is_served_from_the_cache_until_a_notice_changes(client, clerk, yuzhong, settings):
    settings.CACHES = LOCAL_MEMORY_CACHE
    notice = quick_notice(clerk, yuzhong, "缓存工程")
    url = reverse("publicity:notice_list")
    first = client.get(url)
    assert "缓存工程" in page_text(first) and "暂停计时" not in page_text(first)

    assert len(_queries(client, url)) == 0  # served from the cache
    assert client.get(url).content == first.content

    services.file_objection(notice_id=notice.pk, name="王某", contact="13800000000", reason="不实")

    assert "暂停计时" in page_text(client.get(url))  # the objection's save invalidated the cached page


def test_a_logged_in_visitor_never_gets_a_cached_page(client, clerk, yuzhong, settings):
    settings.CACHES = LOCAL_MEMORY_CACHE
    quick_notice(clerk, yuzhong, "登录访问工程")
    client.get(reverse("publicity:notice_list"))  # cached for anonymous visitors
    client.force_login(clerk)

    assert len(_queries(client, reverse("publicity:notice_list"))) > 0


def test_the_cached_form_still_carries_each_visitors_own_csrf_token(clerk, yuzhong, settings):
    settings.CACHES = LOCAL_MEMORY_CACHE
    notice = quick_notice(clerk, yuzhong, "令牌工程")
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first.get(notice_url(notice))  # renders and caches the blank form and the sections

    page = second.get(notice_url(notice)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = second.post(notice_url(notice), {**objection_data(), "csrfmiddlewaretoken": token})

    assert response.status_code in (200, 302)
    assert Objection.objects.filter(notice=notice).count() == 1


# ---------------------------------------------------------------- the search's plan at scale (PostgreSQL)

on_postgresql = needs_service(
    connection.vendor == "postgresql", reason="the statistics and the covering index are PostgreSQL's"
)


@on_postgresql
def test_the_covering_index_holds_every_column_the_public_list_reads_and_searches():
    # publicity 0010: a common word walks this index alone (an index-only scan); a column the list reads that is
    # missing from it sends the scan back to the table for every row.
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'notice_public_recent_cover'")
        (definition,) = cursor.fetchone()
    columns = set(re.findall(r"\b[a-z_]+\b", definition.split("INCLUDE", 1)[1].split(")")[0]))
    columns |= {"starts_at", "id"}
    assert set(selectors.NOTICE_LIST_FIELDS) <= columns
    assert "document_numbers" not in columns  # the widest row would not fit (the next test)
    assert definition.startswith("CREATE INDEX notice_public_recent_cover ON public.publicity_notice")
    assert "(starts_at DESC, id DESC)" in definition


@on_postgresql
def test_the_planner_knows_how_common_a_searched_word_is(clerk, yuzhong):
    # Without statistics of UPPER(name) (publicity 0010) PostgreSQL guesses a handful of matches for a word in most
    # names, reads every match through the trigram index and sorts them, instead of walking the newest-first index
    # and stopping at a page.
    for n in range(40):
        quick_notice(clerk, yuzhong, f"渝中区建设工程{n:02d}" if n % 4 else f"渝中区安置房{n:02d}")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE publicity_notice")

    def estimate(word):
        queryset = selectors.search(selectors.public_notices(), date_field="starts_at", q=word)
        plan = json.loads(queryset.explain(format="json"))
        return plan[0]["Plan"]["Plan Rows"]

    # 30 and 10 of the 40. With so few rows PostgreSQL blends what its histogram says with a default guess, so the
    # estimates are below the truth; without the statistics both words get the same default guess.
    common, rarer = estimate("建设工程"), estimate("安置房")
    assert common >= 10
    assert common > 2 * rarer


@on_postgresql
def test_a_notice_with_the_longest_names_the_columns_allow_still_starts(yuzhong, open_windows):
    # A B-tree entry may not exceed 2,704 bytes: the covering index holds both names but neither the bigrams nor the
    # document numbers (publicity 0010), so the widest row the columns allow still fits: the notice starts, its
    # document numbers may be as long as their column, and it is found.
    long_name = "".join(chr(0x20000 + n * 7) for n in range(200))  # four bytes each in UTF-8, all different
    owner = make_enterprise_user(enterprise=EnterpriseFactory(name=long_name[::-1]), username="long")
    notice = quick_notice(owner, yuzhong, long_name)
    widest_numbers = "".join(
        chr(0x21000 + n * 11) for n in range(Notice._meta.get_field("document_numbers").max_length)
    )
    Notice.objects.filter(pk=notice.pk).update(document_numbers=widest_numbers)

    assert notice.state == NoticeState.RUNNING
    assert selectors.notice_page(1, q=long_name[:5]).items[0].project_name == long_name
