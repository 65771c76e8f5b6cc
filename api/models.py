"""Personal API tokens (docs/api.md): a user's key for the open JSON API, acting as that user with exactly that
user's permissions. Only the SHA-256 of a key is stored; the key itself is shown once, when it is made."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from projects.models import PLAIN


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens", verbose_name="用户"
    )
    name = models.CharField("用途说明", max_length=100, validators=PLAIN)
    # The key's first characters, to tell keys apart on the page and in the trail; not enough to guess it.
    prefix = models.CharField("前缀", max_length=12)
    key_hash = models.CharField("SHA-256", max_length=64, unique=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    expires_at = models.DateTimeField("有效期至")
    last_used_at = models.DateTimeField("最近使用时间", null=True, blank=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)

    class Meta:
        verbose_name = "接口令牌"
        verbose_name_plural = "接口令牌"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name}（{self.prefix}…）"

    def is_expired(self, now=None) -> bool:
        return self.expires_at <= (now or timezone.now())

    @property
    def state_label(self) -> str:
        if self.revoked_at is not None:
            return "已吊销"
        if self.is_expired():
            return "已过期"
        return "有效"
