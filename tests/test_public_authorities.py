"""The authorities of the public lists kept in process memory (publicity/authorities.py): read once, not on every
uncached list page, and never stale across a change — a committed rename shows at the next request, a change inside
an open transaction is seen by that transaction only and forgotten with its rollback."""

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from projects.models import Authority
from publicity import authorities as kept

# The version is set after a commit: tests that commit.
pytestmark = pytest.mark.django_db(transaction=True)

LOCAL_MEMORY_CACHE = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture
def local_cache(settings):
    settings.CACHES = LOCAL_MEMORY_CACHE
    settings.PUBLIC_PAGE_CACHE_SECONDS = 0
    cache.clear()


def list_queries(client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("publicity:notice_list"))
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_read_once_and_again_after_a_committed_change(local_cache, authorities):
    client = Client()
    first, body = list_queries(client)
    again, body_again = list_queries(client)
    assert again == first - 1  # the page's query only: the authorities were kept
    assert body_again == body and ">渝中区" in body
    yuzhong = Authority.objects.get(code="500103")
    yuzhong.name = "渝中区（更名）"
    yuzhong.save()
    after, body = list_queries(client)
    assert after == first and "渝中区（更名）" in body
    assert list_queries(client)[0] == first - 1
    Authority.objects.create(code="999999", name="新设开发区", kind="zone")
    assert "新设开发区" in list_queries(client)[1]
    Authority.objects.filter(code="999999").delete()
    assert "新设开发区" not in list_queries(client)[1]


def test_a_change_in_an_open_transaction_is_its_own(local_cache, authorities):
    kept.rows()  # kept
    with pytest.raises(RuntimeError), transaction.atomic():
        yuzhong = Authority.objects.get(code="500103")
        yuzhong.name = "未提交的名称"
        yuzhong.save()
        assert "未提交的名称" in {row.name for row in kept.rows()}  # this transaction sees its change
        raise RuntimeError("rolled back")
    names = {row.name for row in kept.rows()}
    assert "未提交的名称" not in names and "渝中区" in names


def test_a_lost_version_write_is_outlived_after_keep_seconds(local_cache, authorities, monkeypatch):
    """A rename whose new version never reached the cache (the cache down for that one write) shows once the kept
    copy is KEEP_SECONDS old."""
    clock = [1000.0]
    monkeypatch.setattr(kept, "_clock", lambda: clock[0])
    kept.rows()
    monkeypatch.setattr(kept, "_committed", lambda: None)  # the version write lost
    Authority.objects.filter(code="500103").update(name="渝中区（更名）")
    assert "渝中区（更名）" not in {row.name for row in kept.rows()}
    clock[0] += kept.KEEP_SECONDS + 1
    assert "渝中区（更名）" in {row.name for row in kept.rows()}


def test_with_the_cache_down_every_page_reads_them(authorities, settings):
    settings.PUBLIC_PAGE_CACHE_SECONDS = 0
    settings.CACHES = {
        "default": {
            "BACKEND": "backfill_portal.cache.FailSafeRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.1, "socket_timeout": 0.1},
        }
    }
    client = Client()
    first, _body = list_queries(client)
    assert list_queries(client)[0] == first


def test_a_cached_public_page_shows_a_renamed_authority(local_cache, authorities, settings):
    settings.PUBLIC_PAGE_CACHE_SECONDS = 30
    client = Client()
    assert ">渝中区<" in list_queries(client)[1]
    assert list_queries(client)[0] == 0  # a hit
    yuzhong = Authority.objects.get(code="500103")
    yuzhong.name = "渝中区（新名）"
    yuzhong.save()
    assert "渝中区（新名）" in list_queries(client)[1]
