"""The cache is never in the critical path (docs/architecture.md, "When the cache or the broker is down").

Against a Redis of the test's own (tests/redis_process.py), stopped or frozen by the test: with it down or silent,
a submission commits, an approval starts its notice, the sweep closes the notice, a delivery to the national
platform (its simulator, a real HTTP process) is recorded, and the public pages answer 200, rendered uncached. The
cache is told of a change only after the commit. The throttles choose: the objection form lets objections through
(fail-open), the password reset refuses (fail-closed), the login lockout counts in the database as before.
"""

import datetime

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from backfill_portal import cache as cache_backends
from projects import services as project_services
from projects.audit import Actor
from projects.models import Status
from publicity import services
from publicity.models import LibraryEntry, Notice, NoticeState, Objection, OutboxMessage, OutboxState
from publicity.page_cache import GENERATION_KEY
from review import services as review_services
from tests.builders import UserFactory, make_project, status_of
from tests.processes import wait_for
from tests.redis_process import needs_redis_server, own_redis

pytestmark = [needs_redis_server, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_server(tmp_path, settings):
    """The portal's cache on a Redis of this test's own, with a short bypass period so that a test sees it come
    back; the page cache on, as in production."""
    with own_redis(tmp_path / "redis") as server:
        settings.CACHES = server.caches()
        settings.CACHE_RETRY_AFTER_SECONDS = 0.5
        settings.PUBLIC_PAGE_CACHE_SECONDS = 30
        cache_backends._bypass_until.clear()
        yield server
    cache_backends._bypass_until.clear()


@pytest.fixture
def platform(national_platform, settings):
    from tests.simulator_process import API_KEY

    base_url, simulator = national_platform
    settings.NATIONAL_PLATFORM_URL = base_url
    settings.NATIONAL_PLATFORM_API_KEY = API_KEY
    return simulator


def submitted_and_approved(clerk, reviewer, authority, name):
    """The real path: a draft submitted by its enterprise, approved by its district (snapshot and notice)."""
    project = make_project(clerk.membership.enterprise, clerk, authority, name=name)
    project = project_services.submit_project(actor=Actor(user=clerk), project=project)
    assert status_of(project) == Status.SUBMITTED
    review_services.approve(actor=Actor(user=reviewer), project=project)
    return Notice.objects.get(project=project)


def expire(*notices):
    Notice.objects.filter(pk__in=[n.pk for n in notices]).update(
        ends_at=timezone.now() - datetime.timedelta(seconds=1)
    )


def public_pages(*notices) -> dict:
    pages = {
        "notices": reverse("publicity:notice_list"),
        "library": reverse("publicity:library_list"),
        "home": reverse("publicity:notice_list") + "?q=工程",
    }
    for notice in notices:
        pages[f"notice {notice.pk}"] = reverse("publicity:notice_detail", args=[notice.pk])
    return pages


def answers(pages) -> dict:
    anonymous = Client()
    return {name: anonymous.get(url).status_code for name, url in pages.items()}


def objection(**overrides):
    return {
        "name": "王某某",
        "contact": "13787654321",
        "reason": "该项目实际施工单位并非补录企业，公示的中标信息与事实不符。",
        "website": "",
        **overrides,
    }


# ---------------------------------------------------------------- down


def test_with_the_cache_down_the_record_goes_from_submission_to_the_library_and_pages_answer(
    redis_server, platform, clerk, reviewer, yuzhong, open_windows, caplog
):
    redis_server.stop()

    notice = submitted_and_approved(clerk, reviewer, yuzhong, "缓存停机综合楼")
    assert notice.state == NoticeState.RUNNING
    assert set(answers(public_pages(notice)).values()) == {200}

    expire(notice)
    assert services.close_expired_notices() == 1
    assert status_of(notice.project) == Status.ENTERING
    message = OutboxMessage.objects.get(project=notice.project)
    assert services.deliver(message.pk) == "delivered"

    message.refresh_from_db()
    assert message.state == OutboxState.DELIVERED
    assert status_of(notice.project) == Status.IN_NATIONAL_LIBRARY
    assert LibraryEntry.objects.filter(project=notice.project).exists()
    assert platform.records()["create_calls"][notice.project.project_number]["stored"] == 1
    pages = public_pages()
    pages["entry"] = reverse("publicity:library_detail", args=[message.national_id])
    assert set(answers(pages).values()) == {200}
    assert "缓存停机综合楼" in Client().get(pages["library"]).content.decode()
    assert "cache unavailable (ConnectionError" in caplog.text


def test_with_the_cache_silent_nothing_waits_for_it(redis_server, clerk, reviewer, yuzhong, open_windows):
    # SIGSTOP: connections are accepted and never answered, the worst kind of slow. Every call gives up after
    # CACHE_TIMEOUT_SECONDS; the pages are checked while the server is still frozen.
    notice = submitted_and_approved(clerk, reviewer, yuzhong, "缓存无响应综合楼")
    assert set(answers(public_pages(notice)).values()) == {200}  # cached while the cache is up

    with redis_server.paused():
        expire(notice)
        assert services.close_expired_notices() == 1
        assert status_of(notice.project) == Status.ENTERING
        assert set(answers(public_pages()).values()) == {200}  # the closed notice's own page is gone (404)
        assert not redis_server.answers()  # still frozen: nothing above waited for it


def test_a_cache_that_comes_back_is_used_again(redis_server, clerk, reviewer, yuzhong, open_windows):
    submitted_and_approved(clerk, reviewer, yuzhong, "缓存恢复综合楼")
    url = reverse("publicity:notice_list")
    redis_server.stop()
    assert Client().get(url).status_code == 200

    redis_server.start()  # empty, on the same port

    def served_from_the_cache():
        Client().get(url)
        with CaptureQueriesContext(connection) as queries:
            assert Client().get(url).status_code == 200
        return len(queries) == 0

    wait_for(served_from_the_cache, timeout=10, what="the page to be cached again", interval=0.2)


# ---------------------------------------------------------------- after the commit


def test_the_cache_is_told_of_a_change_only_after_the_commit(
    redis_server, clerk, reviewer, yuzhong, open_windows
):
    url = reverse("publicity:notice_list")
    first = submitted_and_approved(clerk, reviewer, yuzhong, "提交前综合楼")
    assert "提交前综合楼" in Client().get(url).content.decode()  # cached
    generation = cache.get(GENERATION_KEY)

    with transaction.atomic():
        services.file_objection(notice_id=first.pk, name="王某", contact="13800000000", reason="不实")
        assert cache.get(GENERATION_KEY) == generation  # nothing told yet
        # This transaction's own request sees its change: rendered uncached, not stored.
        assert "暂停计时" in Client().get(url).content.decode()
        assert cache.get(GENERATION_KEY) == generation

    assert cache.get(GENERATION_KEY) != generation
    assert "暂停计时" in Client().get(url).content.decode()


def test_a_rolled_back_change_leaves_the_cache_in_use(redis_server, clerk, reviewer, yuzhong, open_windows):
    url = reverse("publicity:notice_list")
    notice = submitted_and_approved(clerk, reviewer, yuzhong, "回滚综合楼")
    Client().get(url)
    generation = cache.get(GENERATION_KEY)

    with pytest.raises(RuntimeError), transaction.atomic():
        services.file_objection(notice_id=notice.pk, name="王某", contact="13800000000", reason="不实")
        raise RuntimeError("rolled back")

    assert cache.get(GENERATION_KEY) == generation
    with CaptureQueriesContext(connection) as queries:
        assert "暂停计时" not in Client().get(url).content.decode()
    assert len(queries) == 0


# ---------------------------------------------------------------- the throttles


def test_with_the_cache_down_objections_are_taken_and_password_resets_refused(
    redis_server, settings, clerk, reviewer, yuzhong, open_windows
):
    settings.OBJECTION_RATE = "1/h"
    settings.PASSWORD_RESET_RATE = "5/h"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    notice = submitted_and_approved(clerk, reviewer, yuzhong, "限流综合楼")
    UserFactory(username="target", email="target@example.com")
    url = reverse("publicity:notice_detail", args=[notice.pk])
    redis_server.stop()

    # Fail-open: an objection has a deadline; two from one address, over the rate of one, are both taken.
    taken = [Client().post(url, objection(), REMOTE_ADDR="198.51.100.9").status_code for _ in range(2)]
    assert taken == [200, 200]
    assert Objection.objects.filter(notice=notice).count() == 2

    # Fail-closed: each reset is an e-mail, and it can wait for the cache.
    mails_before = len(mail.outbox)
    refused = Client().post(reverse("password_reset"), {"email": "target@example.com"})
    assert refused.status_code == 429
    assert len(mail.outbox) == mails_before
    # Objection lookups too (walking the references); the lookup page itself is throttled the same way.
    assert Client().get(reverse("publicity:objection_lookup")).status_code == 429


def test_with_the_cache_down_the_public_api_refuses(redis_server, settings):
    """Fail-closed, as django-ratelimit's get_usage was: a count the cache cannot keep is no count."""
    redis_server.stop()
    response = Client().get(reverse("api:notices"), REMOTE_ADDR="198.51.100.9")
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"


def test_a_restarted_cache_counts_the_public_api_again_on_its_next_call(redis_server, settings):
    """The count runs on a connection of the cache's pool (backfill_portal.cache.FailSafeRedisCache.count): one the
    restarted server closed is checked and replaced before the script is sent, so the call is counted, not
    refused, and the counter starts anew."""
    settings.API_PUBLIC_RATE = "2/h"
    url = reverse("api:notices")
    assert Client().get(url, REMOTE_ADDR="198.51.100.9").status_code == 200
    redis_server.stop()
    redis_server.start()  # empty, on the same port
    answers = [Client().get(url, REMOTE_ADDR="198.51.100.9").status_code for _ in range(3)]
    assert answers == [200, 200, 429]
    assert Client().get(url, REMOTE_ADDR="198.51.100.9")["Retry-After"]


def test_with_the_cache_down_the_login_lockout_still_counts(redis_server, settings, clerk):
    settings.AXES_FAILURE_LIMIT = 3
    redis_server.stop()
    browser = Client()
    for _ in range(3):
        browser.post(reverse("login"), {"username": "clerk", "password": "wrong-password-1A"})

    locked = browser.post(reverse("login"), {"username": "clerk", "password": "wrong-password-1A"})

    assert locked.status_code == 429
    assert "锁定" in locked.content.decode()
