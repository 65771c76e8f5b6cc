"""The idle-session warning in real headless Chromium: shortly before the session ends the page says so and can
keep it alive; when it has ended the page says that too. Also: no page here breaks its Content-Security-Policy."""

import pytest
from playwright.sync_api import expect

from tests.builders import TEST_PASSWORD, make_enterprise_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def short_sessions(settings):
    """A 6-second session with a warning 4 seconds before its end (production: 30 minutes, 2 before)."""
    settings.SESSION_COOKIE_AGE = 6
    settings.SESSION_WARNING_SECONDS = 4


def test_the_page_warns_before_the_session_ends_and_keeps_it_alive_on_request(
    page, live_server, short_sessions
):
    make_enterprise_user(username="clerk")
    violations = []
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and violations.append(message.text),
    )

    page.goto("/accounts/login/")
    page.fill("#id_username", "clerk")
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("我的补录项目")

    warning = page.locator("#session-timeout-warning")
    expect(warning).to_contain_text("登录将在约1分钟后失效", timeout=5000)
    warning.locator("button").click()  # 继续使用: the session lives on
    expect(warning).to_have_count(0)

    expect(warning).to_contain_text("登录将在约1分钟后失效", timeout=5000)
    expect(warning).to_contain_text("您已退出登录", timeout=8000)  # no answer: the session has ended
    warning.locator("button").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    page.goto("/projects/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/projects/")
    assert violations == []
