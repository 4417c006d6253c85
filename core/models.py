"""API tokens: a random secret handed out once, kept only as its SHA-256 (a token has 256 random bits, so a
fast hash is enough: there is nothing to guess from it)."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

TOKEN_PREFIX = "pocr_"


class TokenScope(models.TextChoices):
    READ = "read", "只读（查询、下载）"
    WRITE = "write", "读写（识别、扫描、取消、重试、删除自己的任务）"
    ADMIN = "admin", "管理（所有用户的任务，运维接口）"


SCOPE_RANK = {TokenScope.READ: 1, TokenScope.WRITE: 2, TokenScope.ADMIN: 3}


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def usable(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(models.Q(expires_at__isnull=True) |
                                                            models.Q(expires_at__gt=now))


class ApiToken(models.Model):
    name = models.CharField("名称", max_length=100, help_text="用途，如 “扫描服务器”")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens",
                             verbose_name="所属用户", help_text="令牌以该用户的身份访问：非管理范围只能看到该用户的任务")
    scope = models.CharField("范围", max_length=10, choices=TokenScope.choices, default=TokenScope.WRITE)
    key_prefix = models.CharField("前缀", max_length=16, editable=False, help_text="令牌开头几位，便于辨认")
    key_digest = models.CharField("摘要", max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    expires_at = models.DateTimeField("过期时间", null=True, blank=True, help_text="为空表示不过期")
    last_used_at = models.DateTimeField("最后使用", null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        db_table = "api_tokens"
        ordering = ["-created_at", "-id"]
        verbose_name = "API 令牌"
        verbose_name_plural = "API 令牌"

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…, {self.scope})"

    def issue_secret(self) -> str:
        """A new secret for this token (shown once; only its digest is kept). Save afterwards."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.key_prefix = secret[: len(TOKEN_PREFIX) + 6]
        self.key_digest = token_digest(secret)
        return secret

    def allows(self, scope: str) -> bool:
        return SCOPE_RANK[self.scope] >= SCOPE_RANK[scope]

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())
