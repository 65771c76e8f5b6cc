"""Password rules and the first-login change (GB/T 22239 身份鉴别).

- MinimumLengthValidator: Django's, with its message in Chinese.
- CharacterClassesValidator: three of the four classes (upper case, lower case, digits, symbols). With Django's own
  validators in settings.AUTH_PASSWORD_VALIDATORS: at least 8 characters, not like the username, not common.
- A password an administrator set for someone (the admin's user pages record it: projects.AdministratorSetPassword)
  must be changed at the first login: PasswordChangeRequiredMiddleware sends its holder to the password change page
  until they have chosen their own.
"""

import string

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import password_validation
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ValidationError
from django.dispatch import receiver
from django.shortcuts import redirect
from django.urls import reverse

MUST_CHANGE = "_must_change_password"


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's, in Chinese: Django 5.2 changed this message's wording and its zh-hans translation lags behind."""

    def get_error_message(self):
        return f"密码太短，至少包含 {self.min_length} 个字符。"

    def get_help_text(self):
        return f"密码至少包含 {self.min_length} 个字符。"


class CharacterClassesValidator:
    CLASSES = {
        "大写字母": set(string.ascii_uppercase),
        "小写字母": set(string.ascii_lowercase),
        "数字": set(string.digits),
    }

    def __init__(self, min_classes=3):
        self.min_classes = min_classes

    def classes_in(self, password) -> int:
        found = {name for name, chars in self.CLASSES.items() if any(c in chars for c in password)}
        others = any(not any(c in chars for chars in self.CLASSES.values()) for c in password)
        return len(found) + (1 if others else 0)

    def validate(self, password, user=None):
        if self.classes_in(password) < self.min_classes:
            raise ValidationError(self.get_help_text(), code="password_too_simple")

    def get_help_text(self):
        return f"密码须包含大写字母、小写字母、数字、符号四类中的至少{self.min_classes}类。"


# ---------------------------------------------------------------- the first-login change


def record_administrator_set(user, *, by):
    """The administrator `by` has just set `user`'s password: the user must change it at the first login."""
    from projects.models import AdministratorSetPassword

    if by is not None and by.pk == user.pk:
        AdministratorSetPassword.objects.filter(user=user).delete()  # their own choice
        return
    AdministratorSetPassword.objects.update_or_create(
        user=user, defaults={"password_hash": user.password, "set_by": by}
    )


def must_change_password(user) -> bool:
    """Still the password an administrator set. Once it differs, the record is dropped."""
    from projects.models import AdministratorSetPassword

    record = AdministratorSetPassword.objects.filter(user=user).first()
    if record is None:
        return False
    if record.password_hash == user.password:
        return True
    record.delete()
    return False


@receiver(user_logged_in)
def _flag_at_login(sender, request, user, **kwargs):
    # Asked once at login and kept in the session: the pages that follow cost no query for it.
    if request is not None and hasattr(request, "session") and must_change_password(user):
        request.session[MUST_CHANGE] = True


class PasswordChangeRequiredMiddleware:
    """After AuthenticationMiddleware. Only a session flagged at login is looked at again (one query)."""

    # The second step of the login comes first (backfill_portal/two_factor.py): its pages are let through.
    ALLOWED = (
        "password_change",
        "password_change_done",
        "logout",
        "login",
        "two_factor:verify",
        "two_factor:enrol",
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.SESSION_COOKIE_NAME in request.COOKIES and request.session.get(MUST_CHANGE):
            allowed = {reverse(name) for name in self.ALLOWED}
            if not request.user.is_authenticated or not must_change_password(request.user):
                del request.session[MUST_CHANGE]
            elif request.path not in allowed:
                messages.warning(request, "您的密码由管理员设置，请先修改为只有您知道的密码，再继续使用。")
                return redirect("password_change")
        return self.get_response(request)
