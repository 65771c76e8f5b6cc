"""The client's address behind trusted proxies (projects/client_address.py): X-Forwarded-For is believed only
through them. tests/test_behind_nginx.py shows the same through a real nginx."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from projects.client_address import client_ip


def request_from(remote, forwarded=None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **headers)


@pytest.fixture
def proxies(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.5", "192.168.1.0/24"]
    settings.TRUSTED_PROXY_COUNT = 0
    return settings


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXIES, settings.TRUSTED_PROXY_COUNT = [], 0
    assert client_ip(request_from("203.0.113.9", "198.51.100.1")) == "203.0.113.9"


def test_through_a_trusted_proxy_the_client_is_the_last_address_it_added(proxies):
    assert client_ip(request_from("10.0.0.5", "198.51.100.1")) == "198.51.100.1"


def test_a_forged_header_sent_through_the_proxy_is_passed_over(proxies):
    # The client wrote "6.6.6.6"; nginx appended the address the client really came from.
    assert client_ip(request_from("10.0.0.5", "6.6.6.6, 198.51.100.1")) == "198.51.100.1"


def test_several_trusted_hops_are_walked_past(proxies):
    assert client_ip(request_from("10.0.0.5", "6.6.6.6, 198.51.100.1, 192.168.1.20")) == "198.51.100.1"


def test_a_client_that_is_not_a_proxy_cannot_forge_its_address(proxies):
    assert client_ip(request_from("203.0.113.9", "10.0.0.5, 198.51.100.1")) == "203.0.113.9"


def test_a_malformed_hop_ends_the_walk_at_the_proxy(proxies):
    assert client_ip(request_from("10.0.0.5", "198.51.100.1, not-an-address")) == "10.0.0.5"
    assert client_ip(request_from("10.0.0.5", "")) == "10.0.0.5"


def test_ipv6_addresses_are_normalised(proxies):
    assert client_ip(request_from("10.0.0.5", "2001:DB8:0:0::1")) == "2001:db8::1"


def test_a_number_of_proxies_takes_that_many_hops_from_the_right(settings):
    settings.TRUSTED_PROXIES, settings.TRUSTED_PROXY_COUNT = [], 2
    assert client_ip(request_from("10.0.0.5", "6.6.6.6, 198.51.100.1, 10.0.0.4")) == "198.51.100.1"
    # Fewer hops than proxies: it did not come through them all.
    assert client_ip(request_from("203.0.113.9", "6.6.6.6")) == "203.0.113.9"


def test_both_settings_at_once_are_refused(settings):
    settings.TRUSTED_PROXIES, settings.TRUSTED_PROXY_COUNT = ["10.0.0.5"], 1
    with pytest.raises(ImproperlyConfigured):
        client_ip(request_from("10.0.0.5", "198.51.100.1"))


def test_the_throttle_the_lockout_and_the_audit_all_ask_it(proxies):
    from axes.helpers import get_client_ip_address
    from django_ratelimit.core import _get_ip

    from projects.audit import Actor

    request = request_from("10.0.0.5", "6.6.6.6, 198.51.100.1")
    request.user = None
    assert _get_ip(request) == "198.51.100.1"
    assert get_client_ip_address(request) == "198.51.100.1"
    assert Actor.from_request(request).ip_address == "198.51.100.1"
