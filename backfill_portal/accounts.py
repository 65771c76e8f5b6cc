"""A forgotten password, as a government portal handles it: a reset link by e-mail where the account has an
address (Django's password reset, its tokens and expiry), otherwise the helpdesk (settings.PORTAL_CONTACT_*),
who resets it after checking who asks. The page never says whether an address belongs to an account."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_GET
from django_ratelimit.decorators import ratelimit

from publicity.views import throttled


def password_reset_rate(group, request):
    """Read at each request, so a test (or an operator) changing settings.PASSWORD_RESET_RATE takes effect."""
    return settings.PASSWORD_RESET_RATE


@method_decorator(throttled, name="dispatch")
@method_decorator(
    ratelimit(group="accounts.password_reset", key="ip", rate=password_reset_rate, method="POST", block=True),
    name="dispatch",
)
class ThrottledPasswordResetView(auth_views.PasswordResetView):
    """Django's reset form (templates/registration/password_reset_*.html), at most PASSWORD_RESET_RATE requests
    per client address: each one sends an e-mail, and a flood would spam the addresses typed in."""

    subject_template_name = "registration/password_reset_subject.txt"
    email_template_name = "registration/password_reset_email.txt"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **self.timeout()}

    @property
    def extra_email_context(self):
        return self.timeout()

    @staticmethod
    def timeout() -> dict:
        return {"timeout_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)}


@require_GET
def password_help(request):
    """For an account without an e-mail address: who resets a password, and how."""
    return render(request, "registration/password_help.html")
