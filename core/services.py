"""Writes of API access: creating and revoking tokens (used by the admin and `manage.py token`)."""

import logging

from django.db import transaction
from django.utils import timezone

from .models import ApiToken, TokenScope

logger = logging.getLogger(__name__)


@transaction.atomic
def token_create(*, user, name: str, scope: str = TokenScope.WRITE, expires_at=None) -> tuple[ApiToken, str]:
    """The new token and its secret; the secret is not stored and cannot be shown again."""
    if scope not in TokenScope.values:
        raise ValueError(f"scope must be one of {', '.join(TokenScope.values)}")
    token = ApiToken(user=user, name=name, scope=scope, expires_at=expires_at)
    secret = token.issue_secret()
    token.save()
    logger.info("API token %s (%s) created for %s", token.key_prefix, scope, user)
    return token, secret


def token_revoke(token: ApiToken) -> bool:
    """Revokes the token; False when it already was."""
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if revoked:
        logger.info("API token %s revoked", token.key_prefix)
    return bool(revoked)
