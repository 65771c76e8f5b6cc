# ruff: noqa: F811  (fixtures imported from tests/test_public_pages.py are used as arguments)
"""The public site around the notices: the home page and its links, the guide, the helpdesk from settings, the
forgotten-password path and its throttle, the error pages in Chinese (with DEBUG on too, as the demo runs), the
公示表 as PDF and Excel, the 业绩 lookup by credit code and by name — and who may open each new URL."""

import io
import re

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from projects.models import BackfillWindow
from publicity.models import LibraryEntry, Notice
from publicity.snapshots import mask
from tests.builders import (
    CHIEF_SUPERVISOR_ID,
    PROJECT_MANAGER_ID,
    TEST_PASSWORD,
    EnterpriseFactory,
    UserFactory,
    make_city_user,
    make_enterprise_user,
    make_reviewer,
)
from tests.test_public_pages import (  # noqa: F401  (fixtures)
    CONTACT_PHONE,
    clerk,
    close_and_enter,
    jiangbei,
    notice_of,
    quick_notice,
    reviewers,
)

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    return response.content.decode()


def links_of(html: str) -> set[str]:
    return set(re.findall(r'<a [^>]*href="([^"#]+)"', html))


# ---------------------------------------------------------------- the home page and the guide


def test_the_home_page_says_what_the_portal_is_and_every_link_on_it_opens(client, authorities):
    response = client.get("/")

    assert response.status_code == 200
    html = text_of(response)
    assert "渝建〔2018〕213号" in html and "常见问题" in html and "咨询与联系" in html
    for name in (
        "publicity:notice_list",
        "publicity:library_list",
        "publicity:performance_lookup",
        "publicity:objection_lookup",
        "integrity:blacklist_public",
    ):
        assert reverse(name) in html, name
    for name in ("publicity:guide", "login"):
        assert reverse(name) in html, name
    # The header of a public page: 公示 / 项目库 / 黑名单 / 办事指南 / 登录.
    header = re.search(r'<header class="top">(.*?)</header>', html, re.S).group(1)
    assert [t for t in re.findall(r">([^<>]+)</a>", header)][1:] == [
        "公示",
        "项目库",
        "黑名单",
        "办事指南",
        "登录",
    ]
    for url in links_of(html):
        if url.startswith("/"):
            assert client.get(url).status_code == 200, url


def test_logged_in_users_still_go_where_they_went(client, authorities):
    client.force_login(make_enterprise_user(username="clerk-home"))
    assert client.get("/")["Location"] == reverse("projects:project_list")
    client.force_login(make_reviewer(authorities["500103"], username="reviewer-home"))
    assert client.get("/")["Location"] == reverse("review:queue")  # a reviewer's day starts at its work queue


def test_the_guide_states_the_window_the_evidence_and_the_notice_length(client, open_windows, settings):
    settings.NOTICE_DAYS = 10
    BackfillWindow.objects.filter(enterprise_kind="construction").update(basis="渝建〔2018〕213号")

    html = text_of(client.get(reverse("publicity:guide")))

    assert "2018年1月1日 至 2099年12月31日" in html and "渝建〔2018〕213号" in html
    for stage, material in [("施工图审查", "施工图审查合格书"), ("竣工验收备案", "竣工验收备案表")]:
        assert stage in html and material in html
    assert "公示10日" in html and "不能擅自修改" in html and "更正申请" in html and "黑名单" in html


def test_the_helpdesk_comes_from_settings(client, settings, authorities):
    settings.PORTAL_CONTACT_ORGANISATION = "某区建委补录咨询窗口"
    settings.PORTAL_CONTACT_PHONE = "023-88886666"
    settings.PORTAL_CONTACT_EMAIL = "help@example.gov.cn"

    for url in ("/", reverse("publicity:guide"), reverse("publicity:notice_list"), reverse("password_help")):
        html = text_of(client.get(url))
        assert "某区建委补录咨询窗口" in html and "023-88886666" in html and "help@example.gov.cn" in html, (
            url
        )


# ---------------------------------------------------------------- a forgotten password


def test_login_offers_the_forgotten_password_path(client):
    html = text_of(client.get(reverse("login")))
    assert reverse("password_reset") in html and "忘记密码" in html
    assert reverse("password_help") in text_of(client.get(reverse("password_reset")))


def test_a_reset_link_is_mailed_in_chinese_and_sets_a_new_password(client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    UserFactory(username="forgetful", email="forgetful@example.com")

    response = client.post(reverse("password_reset"), {"email": "forgetful@example.com"}, follow=True)

    assert "请查收电子邮件" in text_of(response)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "重置密码" in message.subject and "forgetful" in message.body
    link = re.search(r"http://testserver(/accounts/reset/\S+)", message.body).group(1)
    form_page = client.get(link, follow=True)
    assert "设置新密码" in text_of(form_page)
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "Xin-mima-2026!", "new_password2": "Xin-mima-2026!"},
        follow=True,
    )
    assert "密码已修改" in text_of(done)
    assert UserFactory._meta.model.objects.get(username="forgetful").check_password("Xin-mima-2026!")
    # The link works once.
    assert "链接无效" in text_of(client.get(link, follow=True))


def test_an_unknown_address_or_an_account_without_one_gets_the_same_page_and_no_mail(client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    UserFactory(username="no-email", email="")

    known_nobody = client.post(reverse("password_reset"), {"email": "nobody@example.com"}, follow=True)

    assert "请查收电子邮件" in text_of(known_nobody) and mail.outbox == []
    help_page = text_of(client.get(reverse("password_help")))
    assert "没有登记电子邮箱" in help_page and "区县城乡建委" in help_page


def test_reset_requests_are_throttled_per_client_address(client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PASSWORD_RESET_RATE = "2/h"
    UserFactory(username="target", email="target@example.com")

    answers = [
        client.post(reverse("password_reset"), {"email": "target@example.com"}).status_code for _ in range(3)
    ]

    assert answers == [302, 302, 429]
    assert len(mail.outbox) == 2
    other_address = Client(REMOTE_ADDR="198.51.100.7")
    assert other_address.post(reverse("password_reset"), {"email": "target@example.com"}).status_code == 302


# ---------------------------------------------------------------- error pages in the portal's words


@pytest.fixture
def failing_urls(settings):
    settings.ROOT_URLCONF = "tests.error_urls"


@pytest.mark.parametrize("debug", [False, True], ids=["production", "demo-debug"])
def test_error_pages_are_in_chinese_with_or_without_debug(settings, failing_urls, debug, authorities):
    settings.DEBUG = debug
    client = Client(raise_request_exception=False)

    cases = {
        "/no-such-page/": (404, "页面不存在"),
        "/notices/999999/": (404, "页面不存在"),
        "/test-errors/400/": (400, "请求有误"),
        "/test-errors/403/": (403, "此页面仅供测试。"),
        "/test-errors/500/": (500, "系统暂时无法处理您的请求"),
    }
    for url, (status, words) in cases.items():
        response = client.get(url)
        html = text_of(response)
        assert response.status_code == status, url
        assert words in html, url
        assert '<html lang="zh-hans">' in html and "公示" in html  # the portal's look: its base template
        assert "Traceback" not in html and "URLconf" not in html and "Page not found" not in html, url


def test_the_debug_pages_come_back_when_a_developer_asks(settings, failing_urls):
    settings.DEBUG = True
    settings.DEBUG_TECHNICAL_ERROR_PAGES = True
    assert "URLconf" in text_of(Client().get("/no-such-page/"))


def test_a_slash_is_still_appended_with_debug_on(settings, client):
    settings.DEBUG = True
    assert client.get("/notices")["Location"] == "/notices/"


# ---------------------------------------------------------------- the 公示表 on paper


def pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.fixture
def three_notices(clerk, yuzhong, jiangbei, open_windows):
    return [
        quick_notice(clerk, yuzhong, "渝中区公示表工程甲"),
        quick_notice(clerk, yuzhong, "渝中区公示表工程乙"),
        quick_notice(clerk, jiangbei, "江北区公示表工程丙"),
    ]


def test_the_notice_list_pdf_holds_the_listed_notices_numbers(client, three_notices):
    response = client.get(reverse("publicity:notice_list_pdf"))

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    for notice in three_notices:
        assert notice.project_number in text
    assert "公示表" in text and "异议渠道" in text
    assert f"/notices/{three_notices[0].pk}/" in text.replace("\n", "")


def test_the_pdf_follows_the_lists_filters(client, three_notices):
    yuzhong_only = pdf_text(client.get(reverse("publicity:notice_list_pdf"), {"authority": "500103"}).content)

    assert three_notices[0].project_number in yuzhong_only and three_notices[1].project_number in yuzhong_only
    assert three_notices[2].project_number not in yuzhong_only


def test_one_notice_has_its_own_pdf(client, three_notices):
    notice = three_notices[1]
    text = pdf_text(client.get(reverse("publicity:notice_pdf", args=[notice.pk])).content)

    assert notice.project_number in text
    assert three_notices[0].project_number not in text
    Notice.objects.filter(pk=notice.pk).update(state="closed")
    assert client.get(reverse("publicity:notice_pdf", args=[notice.pk])).status_code == 404


def test_the_excel_export_opens_and_holds_text_cells(client, three_notices):
    from openpyxl import load_workbook

    response = client.get(reverse("publicity:notice_list_xlsx"), {"q": "公示表工程"})

    workbook = load_workbook(io.BytesIO(response.content))
    rows = list(workbook.active.iter_rows())
    assert [c.value for c in rows[0]][:3] == ["序号", "项目编号", "项目名称"]
    numbers = {row[1].value for row in rows[1:]}
    assert numbers == {n.project_number for n in three_notices}
    assert all(cell.data_type == "s" for row in rows for cell in row)


def test_the_exports_read_a_fixed_number_of_queries(client, clerk, yuzhong, open_windows):
    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    quick_notice(clerk, yuzhong, "查询次数工程0")
    one = (count(reverse("publicity:notice_list_pdf")), count(reverse("publicity:notice_list_xlsx")))
    for n in range(1, 6):
        quick_notice(clerk, yuzhong, f"查询次数工程{n}")
    assert (count(reverse("publicity:notice_list_pdf")), count(reverse("publicity:notice_list_xlsx"))) == one


# ---------------------------------------------------------------- 业绩 lookup


@pytest.fixture
def performer(notice_of, clerk):
    """Two entered records of the clerk's enterprise, one of another enterprise's."""
    first = close_and_enter(notice_of(name="渝中区业绩工程一"), "NP-500103-0101")
    second = close_and_enter(notice_of(name="渝中区业绩工程二"), "NP-500103-0102")
    other_user = make_enterprise_user(
        enterprise=EnterpriseFactory(name="重庆另一家建工有限公司"), username="other-clerk"
    )
    other = close_and_enter(notice_of(name="另一企业的工程", user=other_user), "NP-500103-0103")
    return clerk.membership.enterprise, [first, second], other


def lookup_names(response) -> list[str]:
    return re.findall(r'<h3><a href="/library/[^"]+">([^<]+)</a></h3>', text_of(response))


def test_the_lookup_finds_an_enterprises_records_by_credit_code(client, performer):
    enterprise, records, _other = performer

    response = client.get(reverse("publicity:performance_lookup"), {"q": enterprise.credit_code.lower()})

    assert lookup_names(response) == ["渝中区业绩工程二", "渝中区业绩工程一"]
    html = text_of(response)
    assert "中标金额（元）" in html and "实际面积（平方米）" in html
    permit = records[0].snapshot.content["stages"]["permit"]["permit_number"]
    assert permit in html
    assert reverse("publicity:performance_enterprise", args=[enterprise.credit_code]) in html


def test_the_lookup_finds_records_by_part_of_the_enterprises_name(client, performer):
    assert lookup_names(client.get(reverse("publicity:performance_lookup"), {"q": "另一家建工"})) == [
        "另一企业的工程"
    ]
    assert lookup_names(client.get(reverse("publicity:performance_lookup"), {"q": "渝州建工"})) == [
        "渝中区业绩工程二",
        "渝中区业绩工程一",
    ]
    assert "没有找到" in text_of(client.get(reverse("publicity:performance_lookup"), {"q": "不存在的企业"}))


def test_the_enterprise_page_lists_its_records_each_with_its_versions(client, performer):
    enterprise, records, _other = performer

    response = client.get(reverse("publicity:performance_enterprise", args=[enterprise.credit_code]))

    assert response.status_code == 200
    assert lookup_names(response) == ["渝中区业绩工程二", "渝中区业绩工程一"]
    html = text_of(response)
    for entry in records:
        assert reverse("publicity:library_version", args=[entry.national_id, 1]) in html
    assert (
        client.get(reverse("publicity:performance_enterprise", args=["91500103MA00000000"])).status_code
        == 404
    )
    assert client.get(reverse("publicity:performance_enterprise", args=["short"])).status_code == 404


def test_the_enterprise_page_says_which_version_is_current_and_how_each_earlier_one_ended(
    client, clerk, yuzhong, authorities
):
    """Versions newer than the entry's are not listed; an earlier one without a notice is 未公示."""
    from django.utils import timezone

    from publicity.models import Snapshot
    from tests.builders import enter_library, make_project

    enterprise = clerk.membership.enterprise
    project = enter_library(make_project(enterprise, clerk, yuzhong, name="版本工程", evidence=False))
    entry = LibraryEntry.objects.select_related("snapshot").get(project=project)
    second = Snapshot.objects.create(
        project=project, version=2, content=entry.snapshot.content, reason="更正"
    )
    Snapshot.objects.create(project=project, version=3, content=entry.snapshot.content, reason="再次更正")
    LibraryEntry.objects.filter(pk=entry.pk).update(snapshot=second, updated_at=timezone.now())

    html = text_of(client.get(reverse("publicity:performance_enterprise", args=[enterprise.credit_code])))

    v2 = reverse("publicity:library_version", args=[entry.national_id, 2])
    v1 = reverse("publicity:library_version", args=[entry.national_id, 1])
    assert f'<a href="{v2}">第2版</a>（当前）、<a href="{v1}">第1版</a>（未公示）</p>' in html
    assert "第3版" not in html


def test_the_lookup_and_the_enterprise_page_read_a_fixed_number_of_queries(
    client, clerk, yuzhong, authorities
):
    from tests.builders import enter_library, make_project

    enterprise = clerk.membership.enterprise

    def count(url, params=None):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, params or {}).status_code == 200
        return len(queries)

    def measure():
        return (
            count(reverse("publicity:performance_lookup"), {"q": enterprise.credit_code}),
            count(reverse("publicity:performance_lookup"), {"q": "渝州"}),
            count(reverse("publicity:performance_lookup"), {"q": enterprise.name}),
            count(reverse("publicity:performance_enterprise", args=[enterprise.credit_code])),
        )

    enter_library(make_project(enterprise, clerk, yuzhong, name="业绩规模工程0", evidence=False))
    small = measure()
    for n in range(1, 8):
        enter_library(make_project(enterprise, clerk, yuzhong, name=f"业绩规模工程{n}", evidence=False))
    assert LibraryEntry.objects.count() == 8
    assert measure() == small


# ---------------------------------------------------------------- nothing private on a public page


def test_no_public_page_shows_an_id_number_or_a_phone(client, performer, settings):
    enterprise, records, _other = performer
    notice = Notice.objects.filter(state="running").first() or None
    pages = [
        "/",
        reverse("publicity:guide"),
        reverse("publicity:performance_lookup") + f"?q={enterprise.credit_code}",
        reverse("publicity:performance_lookup") + "?q=渝州",
        reverse("publicity:performance_enterprise", args=[enterprise.credit_code]),
    ]
    if notice:
        pages.append(reverse("publicity:notice_detail", args=[notice.pk]))
    for url in pages:
        html = text_of(client.get(url))
        for secret in (PROJECT_MANAGER_ID, CHIEF_SUPERVISOR_ID, CONTACT_PHONE, "/evidence/"):
            assert secret not in html, (url, secret)
    for export in (reverse("publicity:notice_list_pdf"), reverse("publicity:notice_list_xlsx")):
        body = client.get(export).content
        assert PROJECT_MANAGER_ID.encode() not in body and CONTACT_PHONE.encode() not in body
    assert mask(PROJECT_MANAGER_ID) not in text_of(
        client.get(reverse("publicity:performance_enterprise", args=[enterprise.credit_code]))
    )  # the lookup shows figures and numbers, not people at all


# ---------------------------------------------------------------- who may open the new URLs


ROLES = ("anonymous", "enterprise", "reviewer", "city")


@pytest.fixture
def users(authorities):
    return {
        "anonymous": None,
        "enterprise": make_enterprise_user(username="matrix-clerk"),
        "reviewer": make_reviewer(authorities["500103"], username="matrix-reviewer"),
        "city": make_city_user(username="matrix-city"),
    }


# Every URL this page of the site added: open to anyone (the public site), the same answer for every role;
# what they write (a reset request) is throttled, never refused by role. POST where only GET exists: 405.
PUBLIC_MATRIX = [
    ("publicity:guide", {}, "GET", 200),
    ("publicity:guide", {}, "POST", 405),
    ("publicity:notice_list_pdf", {}, "GET", 200),
    ("publicity:notice_list_xlsx", {}, "GET", 200),
    ("publicity:notice_list_xlsx", {}, "POST", 405),
    ("publicity:notice_pdf", {"notice_id": 999999}, "GET", 404),
    ("publicity:performance_lookup", {}, "GET", 200),
    ("publicity:performance_lookup", {}, "POST", 405),
    ("publicity:performance_enterprise", {"credit_code": "91500103MA00000000"}, "GET", 404),
    ("password_reset", {}, "GET", 200),
    ("password_reset", {}, "POST", 200),  # an empty form: shown again with its error
    ("password_help", {}, "GET", 200),
    ("password_help", {}, "POST", 405),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "url_name, kwargs, method, expected", PUBLIC_MATRIX, ids=[f"{m}-{n}" for n, _k, m, _e in PUBLIC_MATRIX]
)
def test_the_new_public_urls_answer_every_role_alike(client, users, url_name, kwargs, method, expected, role):
    if users[role] is not None:
        client.force_login(users[role])
    url = reverse(url_name, kwargs=kwargs)
    response = client.post(url) if method == "POST" else client.get(url)
    assert response.status_code == expected


def test_a_notice_pdf_and_an_enterprise_page_are_public_for_every_role(client, users, performer):
    enterprise, _records, _other = performer
    notice = Notice.objects.first()
    Notice.objects.filter(pk=notice.pk).update(state="running")
    for role in ROLES:
        client.logout()
        if users[role] is not None:
            client.force_login(users[role])
        assert client.get(reverse("publicity:notice_pdf", args=[notice.pk])).status_code == 200, role
        assert (
            client.get(reverse("publicity:performance_enterprise", args=[enterprise.credit_code])).status_code
            == 200
        )


def test_the_matrix_covers_every_url_the_public_site_added():
    from publicity import site_urls

    names = {f"publicity:{p.name}" for p in site_urls.urlpatterns} | {"password_reset", "password_help"}
    assert names == {name for name, *_ in PUBLIC_MATRIX}
    assert TEST_PASSWORD  # the logins above use force_login; the browser tests log in with it
