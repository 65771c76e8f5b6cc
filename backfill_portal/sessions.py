"""Sessions end after SESSION_IDLE_MINUTES without a request (GB/T 22239: 登录连接超时自动退出), with a warning shortly
before (static/js/session_timeout.js).

Django's session expires SESSION_COOKIE_AGE after it was last saved. Saving it on every request
(SESSION_SAVE_EVERY_REQUEST) would cost a write on every page; instead the expiry is pushed back at most once a
minute, so a session ends between 29 and 30 idle minutes after the last request.
"""

import time

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

REFRESHED_AT = "_idle_refreshed_at"


def refresh_every_seconds() -> int:
    """A minute for 30 idle minutes (a thirtieth of the idle time, at most a minute): a short test session is
    refreshed on every request."""
    return min(60, settings.SESSION_COOKIE_AGE // 30)


class IdleSessionMiddleware:
    """After SessionMiddleware (which saves what this marks) and AuthenticationMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # Only a request that came with a session cookie: an anonymous page never loads a session for this.
        if settings.SESSION_COOKIE_NAME in request.COOKIES and request.user.is_authenticated:
            now = int(time.time())
            if now - request.session.get(REFRESHED_AT, 0) >= refresh_every_seconds():
                request.session[REFRESHED_AT] = now  # modified: SessionMiddleware saves it with a new expiry
        return response


@receiver(user_logged_in)
def _start_idle_clock(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[REFRESHED_AT] = int(time.time())


def session_timeout(request):
    """Context processor: what the warning script needs, for a signed-in user's pages."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        # None rather than absent: base.html asks every page for both, and a name missing from the context costs
        # the template engine an exception and a log call each time.
        return {"session_idle_seconds": None, "session_warning_seconds": None}
    return {
        "session_idle_seconds": settings.SESSION_COOKIE_AGE,
        "session_warning_seconds": settings.SESSION_WARNING_SECONDS,
    }
