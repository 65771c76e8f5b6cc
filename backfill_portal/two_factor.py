"""Two-factor sign-in (GB/T 22239 身份鉴别; docs/security.md, "Two-factor sign-in").

After the password, a second step: a 6-digit code from an authenticator app (django-otp's TOTPDevice) or one of
ten recovery codes (its StaticDevice; each works once), shown once when the app is set up.

- Any user may turn it on (the account page, /accounts/two-factor/). Whoever has it must use it at every login.
- projects.permissions.must_use_two_factor says who must have it (settings.OTP_REQUIRED_FOR_ROLES): such a user
  without an app is sent to set one up before any other page.
- What the session still needs is decided once, at login, and kept in the session (STATE): the pages that follow
  cost no query for it. TwoFactorMiddleware sends an unfinished session to the second step.
- Wrong codes: django-otp's throttle (1, 2, 4… seconds) and, after TWO_FACTOR_FAILURE_LIMIT in a row, a lock of
  AXES_COOLOFF_HOURS, as for passwords. The count is the device's and survives a new password login, so signing in
  again does not buy more guesses. A security administrator lifts the lock or resets the devices.
- Every set-up, code accepted or refused, recovery code used, lock and reset is an audit event.
"""

import datetime
from base64 import b32encode
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery
from django.dispatch import receiver
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from projects import audit, permissions

STATE = "_two_factor"
DONE, VERIFY, ENROL = "done", "verify", "enrol"
APP_NAME = "身份验证器"
RECOVERY_NAME = "恢复码"


# ---------------------------------------------------------------- what the session still needs


def confirmed_app(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def state_for(user) -> str:
    """VERIFY for anyone who turned it on, ENROL for one who must and has not, else DONE."""
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return VERIFY
    if permissions.must_use_two_factor(user):
        return ENROL
    return DONE


@receiver(user_logged_in)
def _ask_at_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[STATE] = state_for(user)


def finish(request):
    """The second step is done for this session."""
    request.session[STATE] = DONE


class TwoFactorMiddleware:
    """After AuthenticationMiddleware and MessageMiddleware. A signed-in session whose second step is not done
    reaches only that step's pages and the logout; anything else is sent there, and comes back afterwards."""

    ALLOWED = ("two_factor:verify", "two_factor:enrol", "logout")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.SESSION_COOKIE_NAME in request.COOKIES and request.user.is_authenticated:
            state = request.session.get(STATE)
            if state is None:  # a session from before two-factor sign-in existed: decided now, once
                state = request.session[STATE] = state_for(request.user)
            if state != DONE and request.path not in {reverse(name) for name in self.ALLOWED}:
                target = reverse("two_factor:verify" if state == VERIFY else "two_factor:enrol")
                if request.method == "GET":
                    target += "?" + urlencode({"next": request.get_full_path()})
                return redirect(target)
        return self.get_response(request)


# ---------------------------------------------------------------- the lock


def last_lockout_failures(user_ref):
    """Per device kind, a subquery of the time of the last wrong code of a device that reached the limit (for
    `user_ref`, a user or OuterRef("pk")): what locked_until() and the security administrator's list read."""
    limit = settings.TWO_FACTOR_FAILURE_LIMIT
    return {
        f"{model._meta.model_name}_locked_at": Subquery(
            model.objects.filter(
                user=user_ref, throttling_failure_count__gte=limit, throttling_failure_timestamp__isnull=False
            )
            .order_by("-throttling_failure_timestamp")
            .values("throttling_failure_timestamp")[:1]
        )
        for model in (TOTPDevice, StaticDevice)
    }


def lock_end(*failed_at) -> datetime.datetime | None:
    """The lock's end after the last wrong code that reached the limit, if it has not ended yet."""
    cooloff = datetime.timedelta(hours=settings.AXES_COOLOFF_TIME)
    ends = [when + cooloff for when in failed_at if when is not None and when + cooloff > timezone.now()]
    return max(ends, default=None)


def locked_until(user) -> datetime.datetime | None:
    """When the second step opens again, if TWO_FACTOR_FAILURE_LIMIT wrong codes in a row have locked it."""
    found = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .annotate(**last_lockout_failures(OuterRef("pk")))
        .values("totpdevice_locked_at", "staticdevice_locked_at")
        .first()
    )
    return lock_end(*found.values()) if found else None


def locked_message(until) -> str:
    return (
        f"验证码连续错误{settings.TWO_FACTOR_FAILURE_LIMIT}次，二次验证已锁定至"
        f"{timezone.localtime(until):%Y-%m-%d %H:%M}。如非本人操作，请联系安全管理员。"
    )


# ---------------------------------------------------------------- setting it up


def pending_app(user) -> TOTPDevice:
    """The app being set up: an unconfirmed device with a fresh secret, the same one until it is confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_NAME, confirmed=False)
    return device


def secret_of(device: TOTPDevice) -> str:
    """The secret as an app asks for it when typed in (base32, in groups of four)."""
    text = b32encode(device.bin_key).decode()
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def qr_data_uri(device: TOTPDevice) -> str:
    """The otpauth URI as a QR code (segno, as the receipts use), an SVG data URI the page's CSP allows."""
    import segno

    return segno.make(device.config_url, error="m", micro=False).svg_data_uri(scale=5)


def new_recovery_codes(user) -> list[str]:
    """Ten fresh recovery codes, replacing any earlier ones. Only their holder sees them, once."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, defaults={"name": RECOVERY_NAME, "confirmed": True}
    )
    device.token_set.all().delete()
    device.throttle_reset(commit=False)
    device.confirmed = True
    device.save()
    codes = [StaticToken.random_token() for _ in range(settings.TWO_FACTOR_RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def enrol(*, actor: audit.Actor, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm the app with a code it shows: the recovery codes (to show once), or None for a wrong code."""
    user = actor.user
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user, confirmed=False)
        if not device.verify_token(token.strip()):
            audit.record_refusal(actor, "two_factor.enrol", user, message="设置身份验证器时验证码错误")
            return None
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()  # one app per account
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = new_recovery_codes(user)
        audit.record(actor, "two_factor.enrol", user, message=f"开启二次验证，生成{len(codes)}个恢复码")
    return codes


# ---------------------------------------------------------------- the second step at login


def is_recovery_code(token: str) -> bool:
    return not token.isdigit()


def verify(*, actor: audit.Actor, token: str) -> str:
    """Check a code at login: "ok", "wrong", "wait" (django-otp's throttle: a few seconds after a wrong code) or
    "locked". A wrong code counts against the device it was meant for (an app's six digits, or a recovery code); a
    recovery code is used up."""
    user, token = actor.user, "".join(token.split()).lower()
    until = locked_until(user)
    if until is not None:
        audit.record_refusal(actor, "two_factor.verify", user, message=locked_message(until))
        return "locked"
    recovery = is_recovery_code(token)
    model, action = (
        (StaticDevice, "two_factor.recovery_code") if recovery else (TOTPDevice, "two_factor.verify")
    )
    with transaction.atomic():
        device = model.objects.select_for_update().filter(user=user, confirmed=True).first()
        if device is not None and not device.verify_is_allowed()[0]:
            return "wait"
        if device is not None and device.verify_token(token):
            left = device.token_set.count() if recovery else None
            message = f"使用恢复码登录，剩余{left}个" if recovery else "二次验证通过"
            audit.record(actor, action, user, message=message)
            return "ok"
        audit.record_refusal(actor, action, user, message="恢复码无效或已使用" if recovery else "验证码错误")
        if device is not None and device.throttling_failure_count == settings.TWO_FACTOR_FAILURE_LIMIT:
            audit.record(actor, "two_factor.locked", user, message=locked_message(locked_until(user)))
    return "wrong"


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# ---------------------------------------------------------------- the security administrator's tools


def reset(*, actor: audit.Actor, user) -> None:
    """A lost phone: remove the user's app and recovery codes. At the next login the user sets up a new one (where
    it is required) or signs in with the password alone."""
    permissions.ensure_security_administrator(actor.user, "重置二次验证")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        audit.record(actor, "two_factor.reset", user, message=f"重置{user.get_username()}的二次验证")


def unlock(*, actor: audit.Actor, user) -> None:
    """Lift a lock after wrong codes before it ends by itself."""
    permissions.ensure_security_administrator(actor.user, "解除二次验证锁定")
    with transaction.atomic():
        for model in (TOTPDevice, StaticDevice):
            model.objects.filter(user=user).update(
                throttling_failure_count=0, throttling_failure_timestamp=None
            )
        audit.record(actor, "two_factor.unlock", user, message=f"解除{user.get_username()}的二次验证锁定")


def has_app():
    """An annotation: the user has a confirmed app (for a list of users)."""
    return Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True))


def describe(user, *, enabled: bool) -> str:
    """For the security administrator's list: 已开启 / 未开启 (必须开启)."""
    if enabled:
        return "已开启"
    return "未开启（必须开启）" if permissions.must_use_two_factor(user) else "未开启"
