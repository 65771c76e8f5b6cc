"""Personal API tokens: made, revoked and checked here (docs/api.md, "Authentication").

A key is `bfp_` and 43 URL-safe random characters (256 bits). Only its SHA-256 is stored: a copy of the database
gives no working key, and a key is looked up by its hash (an index), never compared character by character. The key
is returned once, by create_token(), and shown once on the tokens page.

Making and revoking a token are audited (`api_token.create`, `api_token.revoke`). A call with an expired or revoked
key is refused (401) and audited as `api_token.use.refused` on the token's own user: the key was real, so a person
is involved. An unknown key is refused without an event (it names nobody; the throttle bounds guessing).
"""

import datetime
import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from projects import audit, permissions
from projects.audit import Actor

from .models import ApiToken

KEY_PREFIX = "bfp_"
PREFIX_LENGTH = 12  # "bfp_" and 8 characters: enough to tell a user's keys apart
# What the page offers; the setting bounds what an operator allows.
LIFETIMES_DAYS = (30, 90, 180, 365)
MAX_ACTIVE_TOKENS = 10
# last_used_at is written at most this often per token: a busy integration would otherwise write a row per call.
LAST_USED_RESOLUTION = datetime.timedelta(seconds=60)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def active_tokens(user):
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=timezone.now())


def _created_target(kwargs):
    return None, None


@audit.audits_refusals("api_token.create", target=_created_target, refusals=(PermissionDenied,))
@transaction.atomic
def create_token(*, actor: Actor, name: str, days: int) -> tuple[ApiToken, str]:
    """A new token of the actor's own, valid `days` days. Returns (token, key): the key is never shown again."""
    permissions.ensure_has_organisation(actor.user)
    name = (name or "").strip()
    problems = []
    if not name:
        problems.append("请填写令牌的用途，例如“企业内部系统对接”。")
    if days not in LIFETIMES_DAYS or days > settings.API_TOKEN_MAX_DAYS:
        allowed = "、".join(str(d) for d in LIFETIMES_DAYS if d <= settings.API_TOKEN_MAX_DAYS)
        problems.append(f"有效期须为{allowed}天之一。")
    if active_tokens(actor.user).count() >= MAX_ACTIVE_TOKENS:
        problems.append(f"每个账号最多同时持有{MAX_ACTIVE_TOKENS}个有效令牌，请先吊销不再使用的令牌。")
    if problems:
        raise ValidationError(problems)
    key = new_key()
    token = ApiToken(
        user=actor.user,
        name=name,
        prefix=key[:PREFIX_LENGTH],
        key_hash=hash_key(key),
        expires_at=timezone.now() + datetime.timedelta(days=days),
    )
    token.full_clean()
    token.save()
    audit.record(
        actor,
        "api_token.create",
        token,
        changes={
            "name": [None, token.name],
            "prefix": [None, token.prefix],
            "expires_at": [None, audit.serialise(token.expires_at)],
        },
        message=f"创建接口令牌“{token.name}”（{token.prefix}…）",
    )
    return token, key


def _revoked_target(kwargs):
    return ApiToken(pk=kwargs.get("token_id")), None


@audit.audits_refusals("api_token.revoke", target=_revoked_target, refusals=(Http404,))
@transaction.atomic
def revoke_token(*, actor: Actor, token_id: int) -> ApiToken:
    """Revoke one of the actor's own tokens (another user's is a 404: it does not exist for them). Revoking a
    revoked token changes nothing."""
    token = ApiToken.objects.select_for_update().filter(pk=token_id, user_id=actor.user.pk).first()
    if token is None:
        raise Http404("该令牌不存在或不属于您。")
    if token.revoked_at is not None:
        return token
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.record(
        actor,
        "api_token.revoke",
        token,
        changes={"revoked_at": [None, audit.serialise(token.revoked_at)]},
        message=f"吊销接口令牌“{token.name}”（{token.prefix}…）",
    )
    return token


class TokenRefused(Exception):
    """A key that names a token which may not be used: its `code` (token_expired, token_revoked) and message."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(message)


UNKNOWN = "令牌无效。"
EXPIRED = "令牌已过期，请在“接口令牌”页面创建新的令牌。"
REVOKED = "令牌已被吊销。"
INACTIVE = "该账号已停用。"


def user_of_key(key: str, ip_address: str | None):
    """The user a key acts as (its membership read with it), or TokenRefused. Marks the token used."""
    token = (
        ApiToken.objects.select_related("user__membership__enterprise", "user__membership__authority")
        .filter(key_hash=hash_key(key))
        .first()
    )
    if token is None:
        raise TokenRefused("authentication_failed", UNKNOWN)
    now = timezone.now()
    refusal = None
    if token.revoked_at is not None:
        refusal = TokenRefused("token_revoked", REVOKED)
    elif token.is_expired(now):
        refusal = TokenRefused("token_expired", EXPIRED)
    elif not token.user.is_active:
        refusal = TokenRefused("authentication_failed", INACTIVE)
    if refusal is not None:
        audit.record_refusal(
            Actor(user=token.user, ip_address=ip_address), "api_token.use", token, message=str(refusal)
        )
        raise refusal
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token.user, token
