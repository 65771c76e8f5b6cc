"""The public pages, the login and the enterprise's pages in real headless Chromium on a phone (390 × 844): no
horizontal scroll of the page, and axe-core (from the npm registry, cached and injected by the test: tests/axe.py,
no CDN) finds no serious or critical violation. The notice pages print without the site's navigation and forms.

Set SCREENSHOT_DIR to keep a screenshot of every page at 390 px and at 1366 px (to look at them)."""

import os
from pathlib import Path

import pytest
from django.urls import reverse

from publicity.models import LibraryEntry
from tests.builders import TEST_PASSWORD, EnterpriseFactory, enter_library, make_enterprise_user, make_project
from tests.test_public_pages import quick_notice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
BLOCKING = {"serious", "critical"}


@pytest.fixture
def site(authorities, open_windows):
    """Notices (one with a long name), a record in the library, an enterprise user with a draft."""
    enterprise = EnterpriseFactory(name="重庆市渝州建设工程集团股份有限公司第一工程分公司")
    clerk = make_enterprise_user(enterprise=enterprise, username="phone-clerk")
    yuzhong, jiangbei = authorities["500103"], authorities["500105"]
    notices = [
        quick_notice(clerk, yuzhong, "渝中区解放碑商业综合体及地下停车库配套市政道路改造提升工程（一期）"),
        quick_notice(clerk, jiangbei, "江北区观音桥小学教学楼"),
    ]
    # In the library the short way (no outbox, no broker: the live server's data is committed for real).
    enter_library(
        make_project(enterprise, clerk, yuzhong, name="渝中区入库示范工程"), national_id="NP-500103-0901"
    )
    draft = make_project(enterprise, clerk, yuzhong, name="手机上编辑的草稿工程", evidence=False)
    entry = LibraryEntry.objects.get(national_id="NP-500103-0901")
    return {
        "public": {
            "home": "/",
            "guide": reverse("publicity:guide"),
            "notices": reverse("publicity:notice_list"),
            "notice": reverse("publicity:notice_detail", args=[notices[0].pk]),
            "library": reverse("publicity:library_list"),
            "library-entry": reverse("publicity:library_detail", args=[entry.national_id]),
            "performance": reverse("publicity:performance_lookup") + "?q=渝州",
            "enterprise": reverse("publicity:performance_enterprise", args=[enterprise.credit_code]),
            "objection-lookup": reverse("publicity:objection_lookup"),
            "blacklist": reverse("integrity:blacklist_public"),
            "login": reverse("login"),
            "password-reset": reverse("password_reset"),
            "password-help": reverse("password_help"),
            "not-found": "/no-such-page/",
        },
        "enterprise": {
            "project-list": reverse("projects:project_list"),
            "stage-form": reverse("projects:stage_edit", args=[draft.pk, "tendering"]),
        },
        "notice": notices[0],
    }


def log_in(page):
    page.goto("/accounts/login/")
    page.fill("#id_username", "phone-clerk")
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/projects/")


def check(page, axe, name, url, problems, shots):
    page.set_viewport_size(PHONE)
    page.goto(url)
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        problems.append(f"{name} ({url}): the page is {width}px wide at 390px")
    violations = axe.violations(page)
    for violation in violations:
        if violation["impact"] in BLOCKING:
            targets = [node["target"] for node in violation["nodes"]][:3]
            problems.append(f"{name} ({url}): axe {violation['id']} ({violation['impact']}) at {targets}")
    if shots:
        page.screenshot(path=str(shots / f"{name}-390.png"), full_page=True)
        page.set_viewport_size(DESKTOP)
        page.screenshot(path=str(shots / f"{name}-1366.png"), full_page=True)


def screenshot_dir():
    value = os.environ.get("SCREENSHOT_DIR")
    if not value:
        return None
    path = Path(value)
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_every_public_page_and_the_enterprises_pages_fit_a_phone_and_pass_axe(page, axe, live_server, site):
    problems = []
    shots = screenshot_dir()
    for name, url in site["public"].items():
        check(page, axe, name, url, problems, shots)
    log_in(page)
    for name, url in site["enterprise"].items():
        check(page, axe, name, url, problems, shots)

    assert problems == []


def test_the_notice_pages_print_without_navigation_or_forms(page, live_server, site):
    page.emulate_media(media="print")
    page.goto(reverse("publicity:notice_detail", args=[site["notice"].pk]))
    assert page.locator("header.top nav").is_hidden()
    assert page.locator("#objection").is_hidden()
    assert page.locator("#notice-facts").is_visible()
    page.goto(reverse("publicity:notice_list"))
    assert page.locator(".search").is_hidden() and page.locator("#downloads").is_hidden()
    assert page.locator("#notices thead").is_visible()  # a table on paper, never cards
    shots = screenshot_dir()
    if shots:
        page.pdf(path=str(shots / "notice-list-printed.pdf"))
