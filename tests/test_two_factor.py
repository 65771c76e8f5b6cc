"""Two-factor sign-in (backfill_portal/two_factor.py): any user may turn it on; reviewers, city users and the
administrators must (OTP_REQUIRED_FOR_ROLES; the suite's settings require it of nobody, these tests turn it on);
the demo logins are exempt; recovery codes work once; wrong codes lock the second step; everything is audited.
The codes are computed here from the secret the page shows, as an authenticator app computes them (RFC 6238)."""

import re
import time
from base64 import b32decode

import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from backfill_portal import two_factor
from projects.models import AuditEvent
from tests.builders import TEST_PASSWORD, make_city_user, make_enterprise_user, make_reviewer

ENROL = "/accounts/two-factor/enrol/"
VERIFY = "/accounts/two-factor/verify/"


@pytest.fixture
def required(settings):
    settings.OTP_REQUIRED_FOR_ROLES = ["reviewer", "city", "administrator"]
    settings.DEMO_MODE = False


def code_for(secret: str, *, steps_ahead=0) -> str:
    """What an authenticator app shows for the secret the enrolment page prints (base32 in groups of four)."""
    totp = TOTP(b32decode(secret.replace(" ", "")), step=30, t0=0, digits=6)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def next_code(user) -> str:
    """The code an app shows for the first time step the user's device still accepts: after the step it last took
    (django-otp refuses a step twice) and inside its window of tolerance around now shifted by its drift. Counting
    "the next step" from the clock instead fails whenever the enrolment crossed a step boundary (the device then
    keeps a drift of -1, and now + 1 falls outside its window)."""
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    step = max(device.last_t + 1, totp.t() - device.tolerance)
    assert step <= totp.t() + device.tolerance, (
        "the device took a step ahead of its window: wait for the clock"
    )
    totp.time = device.t0 + (step - device.drift) * device.step
    return f"{totp.token():06d}"


def secret_on(page_html: str) -> str:
    return re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page_html).group(1)


def enrol(client, user) -> list[str]:
    """Set up an app for a signed-in `user` through the pages; the recovery codes shown."""
    secret = secret_on(client.get(ENROL).content.decode())
    response = client.post(ENROL, {"code": code_for(secret)})
    assert response.status_code == 200, response.content.decode()
    return re.findall(r"<li><code>([a-z2-7]{8})</code></li>", response.content.decode())


def actions(user) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type="user", object_id=str(user.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


def device_secret(user) -> str:
    from base64 import b32encode

    return b32encode(TOTPDevice.objects.get(user=user, confirmed=True).bin_key).decode()


@pytest.mark.django_db
def test_a_reviewer_is_sent_to_set_up_the_app_before_any_page_and_comes_back_after(
    client, authorities, required
):
    reviewer = make_reviewer(authorities["500103"], username="rev")
    client.force_login(reviewer)

    response = client.get("/review/queue/")
    assert response.status_code == 302 and response["Location"] == f"{ENROL}?next=%2Freview%2Fqueue%2F"
    assert client.get("/admin/").status_code == 302

    page = client.get(response["Location"]).content.decode()
    assert "必须开启二次验证" in page and 'src="data:image/svg+xml' in page
    secret = secret_on(page)
    assert (
        client.post(ENROL, {"code": "000000" if code_for(secret) != "000000" else "111111"}).status_code
        == 200
    )
    assert not TOTPDevice.objects.filter(user=reviewer, confirmed=True).exists()
    time.sleep(1.1)  # django-otp's throttle: a second after a wrong code

    done = client.post(ENROL, {"code": code_for(secret), "next": "/review/queue/"})
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", done.content.decode())
    assert len(codes) == 10 and 'href="/review/queue/"' in done.content.decode()
    assert done["Cache-Control"].startswith("max-age=0") and "no-store" in done["Cache-Control"]
    assert client.get("/review/queue/").status_code == 200
    assert actions(reviewer) == ["two_factor.enrol.refused", "two_factor.enrol"]


@pytest.mark.django_db
def test_an_enterprise_clerk_is_not_asked_but_may_turn_it_on_and_then_must_use_it(client, required):
    clerk = make_enterprise_user(username="clerk")
    client.force_login(clerk)
    assert client.get("/projects/").status_code == 200
    assert "未开启" in client.get("/accounts/two-factor/").content.decode()

    enrol(client, clerk)
    assert "已开启" in client.get("/accounts/two-factor/").content.decode()
    client.logout()

    client.post("/accounts/login/", {"username": "clerk", "password": TEST_PASSWORD})
    assert client.get("/projects/")["Location"] == f"{VERIFY}?next=%2Fprojects%2F"
    response = client.post(VERIFY, {"code": next_code(clerk), "next": "/projects/"})
    assert response["Location"] == "/projects/"
    assert client.get("/projects/").status_code == 200
    assert actions(clerk)[-1] == "two_factor.verify"


@pytest.mark.django_db
def test_the_demo_logins_are_exempt_and_the_banner_says_so(client, authorities, settings):
    settings.OTP_REQUIRED_FOR_ROLES = ["reviewer", "city"]
    settings.DEMO_MODE = True
    client.force_login(make_reviewer(authorities["500103"], username="demo-reviewer-yuzhong"))

    response = client.get("/review/queue/")

    assert response.status_code == 200
    assert "演示账号登录时免于二次验证" in response.content.decode()
    assert "演示账号登录时免于二次验证" in client.get("/admin/").content.decode()


@pytest.mark.django_db
def test_without_demo_mode_there_is_no_banner(client):
    assert "demo-banner" not in client.get("/accounts/login/").content.decode()


@pytest.mark.django_db
def test_a_recovery_code_works_once(client, required):
    city = make_city_user(username="city")
    client.force_login(city)
    codes = enrol(client, city)
    client.logout()

    client.force_login(city)
    assert client.post(VERIFY, {"code": codes[0].upper()})["Location"] == "/"
    assert StaticToken.objects.filter(device__user=city).count() == 9
    client.logout()

    client.force_login(city)
    refused = client.post(VERIFY, {"code": codes[0]})
    assert refused.status_code == 200 and "验证码或恢复码不正确" in refused.content.decode()
    assert client.get("/review/queue/").status_code == 302
    assert actions(city)[-2:] == ["two_factor.recovery_code", "two_factor.recovery_code.refused"]
    event = AuditEvent.objects.filter(action="two_factor.recovery_code").get()
    assert event.message == "使用恢复码登录，剩余9个" and event.actor == city


@pytest.mark.django_db
def test_repeated_wrong_codes_lock_the_second_step_even_for_the_right_code_and_a_new_login(
    client, required, settings
):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp's seconds between tries: the lock is what is tested
    clerk = make_enterprise_user(username="clerk")
    client.force_login(clerk)
    enrol(client, clerk)
    client.logout()
    client.force_login(clerk)
    right = next_code(clerk)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    for _ in range(settings.TWO_FACTOR_FAILURE_LIMIT):
        assert "验证码或恢复码不正确" in client.post(VERIFY, {"code": wrong}).content.decode()
    client.logout()
    client.force_login(clerk)  # the password again buys no more guesses
    locked = client.post(VERIFY, {"code": right})

    assert "二次验证已锁定至" in locked.content.decode()
    assert client.get("/projects/").status_code == 302
    assert actions(clerk).count("two_factor.verify.refused") == settings.TWO_FACTOR_FAILURE_LIMIT + 1
    assert "two_factor.locked" in actions(clerk)
    assert two_factor.locked_until(clerk) is not None


@pytest.mark.django_db
def test_django_otp_throttle_asks_to_wait_a_moment_after_a_wrong_code(client, required):
    clerk = make_enterprise_user(username="clerk")
    client.force_login(clerk)
    enrol(client, clerk)
    client.logout()
    client.force_login(clerk)
    right = next_code(clerk)

    client.post(VERIFY, {"code": f"{(int(right) + 1) % 1_000_000:06d}"})
    response = client.post(VERIFY, {"code": right})

    assert "请稍候几秒再试" in response.content.decode()


@pytest.mark.django_db
def test_a_session_from_before_is_decided_at_its_first_request(client, authorities, required):
    reviewer = make_reviewer(authorities["500103"], username="rev")
    client.force_login(reviewer)
    session = client.session
    del session[two_factor.STATE]
    session.save()

    assert client.get("/review/queue/")["Location"].startswith(ENROL)


@pytest.mark.django_db
def test_the_second_step_goes_back_only_to_this_sites_pages(client, required):
    clerk = make_enterprise_user(username="clerk")
    client.force_login(clerk)
    enrol(client, clerk)
    client.logout()
    client.force_login(clerk)

    response = client.post(VERIFY, {"code": next_code(clerk), "next": "https://evil.example/"})

    assert response["Location"] == reverse("home")


@pytest.mark.django_db
def test_the_first_login_password_change_waits_for_the_second_step(client, authorities, required):
    from backfill_portal import passwords
    from tests.builders import UserFactory

    reviewer = make_reviewer(authorities["500103"], username="rev")
    passwords.record_administrator_set(reviewer, by=UserFactory(username="admin"))
    client.post("/accounts/login/", {"username": "rev", "password": TEST_PASSWORD})

    assert client.get("/review/queue/")["Location"].startswith(ENROL)
    assert client.get(ENROL).status_code == 200
    assert client.get("/accounts/password_change/")["Location"].startswith(ENROL)


# ---------------------------------------------------------------- in Chromium


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_reviewer_sets_up_the_app_signs_in_with_it_and_with_a_recovery_code_once(
    page, live_server, authorities, settings
):
    settings.OTP_REQUIRED_FOR_ROLES = ["reviewer", "city", "administrator"]
    settings.DEMO_MODE = False
    reviewer = make_reviewer(authorities["500103"], username="rev")
    violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and violations.append(m.text))

    def sign_in():
        page.goto("/accounts/login/?next=/review/queue/")
        page.fill("#id_username", "rev")
        page.fill("#id_password", TEST_PASSWORD)
        page.click("button[type=submit]")

    sign_in()
    expect(page.locator("h1")).to_have_text("开启二次验证")
    assert (
        page.locator("#totp-qr").evaluate("img => img.naturalWidth") > 0
    )  # the QR code rendered under the CSP
    secret = page.locator("#totp-secret").inner_text()
    page.fill("#id_code", code_for(secret))
    page.click("#confirm-app")
    expect(page.locator("h1")).to_have_text("二次验证已开启")
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    page.click("#continue")
    expect(page).to_have_url(f"{live_server.url}/review/queue/")
    page.click("text=退出登录")

    sign_in()
    expect(page.locator("h1")).to_have_text("二次验证")
    page.fill(
        "#id_code", next_code(reviewer)
    )  # the enrolment took this step's code: the next one the app shows
    page.click("#verify-code")
    expect(page).to_have_url(f"{live_server.url}/review/queue/")
    page.click("text=退出登录")

    sign_in()
    page.fill("#id_code", codes[0])
    page.click("#verify-code")
    expect(page).to_have_url(f"{live_server.url}/review/queue/")
    page.click("text=退出登录")

    sign_in()
    page.fill("#id_code", codes[0])
    page.click("#verify-code")
    expect(page.locator(".error")).to_have_text("验证码或恢复码不正确。")
    page.goto("/review/queue/")
    expect(page.locator("h1")).to_have_text("二次验证")

    assert actions(reviewer) == [
        "two_factor.enrol",
        "two_factor.verify",
        "two_factor.recovery_code",
        "two_factor.recovery_code.refused",
    ]
    assert violations == []
