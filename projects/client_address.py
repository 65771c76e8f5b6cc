"""Where a request comes from: the one answer the throttles, the login lockout and the audit trail use.

Without a trusted proxy (the default) it is REMOTE_ADDR: a client-supplied X-Forwarded-For would let anyone forge
where they acted from. Behind a reverse proxy every request arrives from the proxy, so the settings name it:

- TRUSTED_PROXIES: the proxies' addresses or networks. X-Forwarded-For is read from the right, past each hop that
  is a trusted proxy; the first address that is not one is the client. A request that does not come from a
  trusted proxy is answered by its REMOTE_ADDR, whatever its header says.
- TRUSTED_PROXY_COUNT: or the number of proxies in front (when their addresses are not known in advance): the
  client is that many hops from the right. Only where the application cannot be reached but through them.

A malformed hop ends the walk at the last trusted address. docs/security.md shows nginx's side.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple:
    try:
        return tuple(ipaddress.ip_network(proxy.strip(), strict=False) for proxy in proxies if proxy.strip())
    except ValueError as error:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {error}") from error


def _address(text: str):
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _forwarded_hops(request) -> list[str]:
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return [hop.strip() for hop in header.split(",") if hop.strip()]


def client_ip(request) -> str | None:
    """The client's address (normalised text), or None when the server gave none (a Unix socket without a proxy
    header). Also settings.RATELIMIT_IP_META_KEY and settings.AXES_CLIENT_IP_CALLABLE."""
    remote = _address(request.META.get("REMOTE_ADDR") or "")
    proxies = _networks(tuple(settings.TRUSTED_PROXIES))
    count = settings.TRUSTED_PROXY_COUNT
    if proxies and count:
        raise ImproperlyConfigured("Set TRUSTED_PROXIES or TRUSTED_PROXY_COUNT, not both.")

    if count:
        hops = _forwarded_hops(request)
        if len(hops) < count:
            return str(remote) if remote else None  # did not pass through every proxy
        client = _address(hops[-count]) or remote
        return str(client) if client is not None else None

    client = remote
    if proxies and client is not None:
        for hop in reversed(_forwarded_hops(request)):
            if not any(client in network for network in proxies):
                break
            forwarded = _address(hop)
            if forwarded is None:
                break
            client = forwarded
    return str(client) if client is not None else None
