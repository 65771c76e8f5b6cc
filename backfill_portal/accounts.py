"""A forgotten password, as a government portal handles it: a reset link by e-mail where the account has an
address (Django's password reset, its tokens and expiry), otherwise the helpdesk (settings.PORTAL_CONTACT_*),
who resets it after checking who asks. The page never says whether an address belongs to an account."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.decorators import ratelimit

from projects import permissions
from projects.audit import Actor
from publicity.views import throttled

from . import two_factor


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


# ---------------------------------------------------------------- two-factor sign-in (backfill_portal/two_factor.py)


class CodeForm(forms.Form):
    code = forms.CharField(
        label="验证码",
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
    )


def _next_url(request) -> str:
    """Where the second step was asked from (only this site's own pages), else the home page. A URL, never a view
    name: answered with HttpResponseRedirect (redirect() would try to reverse "next=abc" as a view name)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("home")


@login_required
@require_GET
def two_factor_account(request):
    """The account page's security part: whether the second step is on, and how many recovery codes are left."""
    user = request.user
    return render(
        request,
        "registration/two_factor_account.html",
        {
            "enabled": two_factor.confirmed_app(user) is not None,
            "required": permissions.must_use_two_factor(user),
            "codes_left": two_factor.recovery_codes_left(user),
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_enrol(request):
    """Set up an authenticator app: scan the QR code (or type the secret), type the code it shows; then the
    recovery codes, shown this once."""
    user = request.user
    if two_factor.confirmed_app(user) is not None:
        messages.info(request, "您已开启二次验证。")
        return redirect("two_factor:account")
    device = two_factor.pending_app(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = two_factor.enrol(
            actor=Actor.from_request(request), device=device, token=form.cleaned_data["code"]
        )
        if codes is not None:
            two_factor.finish(request)
            return render(
                request, "registration/two_factor_codes.html", {"codes": codes, "next": _next_url(request)}
            )
        form.add_error("code", "验证码不正确：请输入身份验证器当前显示的6位数字。")
    return render(
        request,
        "registration/two_factor_enrol.html",
        {
            "form": form,
            "qr": two_factor.qr_data_uri(device),
            "secret": two_factor.secret_of(device),
            "required": permissions.must_use_two_factor(user),
            "next": _next_url(request),
        },
    )


VERIFY_ERRORS = {
    "wrong": "验证码或恢复码不正确。",
    "wait": "验证码错误次数较多，请稍候几秒再试。",
}


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request):
    """The second step at login: the app's code, or a recovery code."""
    if request.session.get(two_factor.STATE) != two_factor.VERIFY:
        return HttpResponseRedirect(_next_url(request))
    if two_factor.confirmed_app(request.user) is None:  # reset meanwhile by the security administrator
        request.session[two_factor.STATE] = two_factor.state_for(request.user)
        return HttpResponseRedirect(_next_url(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        actor = Actor.from_request(request)
        result = two_factor.verify(actor=actor, token=form.cleaned_data["code"])
        if result == "ok":
            two_factor.finish(request)
            return HttpResponseRedirect(_next_url(request))
        if result == "locked":
            form.add_error("code", two_factor.locked_message(two_factor.locked_until(request.user)))
        else:
            form.add_error("code", VERIFY_ERRORS[result])
    return render(request, "registration/two_factor_verify.html", {"form": form, "next": _next_url(request)})


two_factor_urls = [
    path("", two_factor_account, name="account"),
    path("enrol/", two_factor_enrol, name="enrol"),
    path("verify/", two_factor_verify, name="verify"),
]
