"""API tokens from the shell:

    manage.py token create --user alice --scope write --name "scanner"   # prints the secret once
    manage.py token list
    manage.py token revoke <prefix>
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core import services
from core.models import ApiToken, TokenScope


class Command(BaseCommand):
    help = "Create, list and revoke API tokens (Authorization: Bearer <token>)."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="create a token and print its secret (shown once)")
        create.add_argument("--user", required=True, help="the user the token acts as (created when missing)")
        create.add_argument("--scope", choices=TokenScope.values, default=TokenScope.WRITE,
                            help="read: GET only; write: also recognise, scan and change own tasks; "
                                 "admin: every user's tasks and the operations endpoints (default write)")
        create.add_argument("--name", default="", help="what the token is for")
        create.add_argument("--days", type=int, default=0, help="expires after this many days (0 = never)")
        actions.add_parser("list", help="list tokens (prefix, user, scope, state)")
        revoke = actions.add_parser("revoke", help="revoke a token by its prefix (shown by list)")
        revoke.add_argument("prefix")

    def handle(self, *args, action, **options):
        getattr(self, f"_{action}")(**options)

    def _create(self, *, user, scope, name, days, **_):
        owner, _created = get_user_model().objects.get_or_create(username=user)
        expires_at = timezone.now() + timedelta(days=days) if days > 0 else None
        token, secret = services.token_create(user=owner, name=name or f"{user} {scope}", scope=scope,
                                              expires_at=expires_at)
        self.stderr.write(f"token {token.key_prefix}… ({scope}) for {owner.username}; "
                          "the secret below is shown only now:")
        self.stdout.write(secret)

    def _list(self, **_):
        for token in ApiToken.objects.select_related("user"):
            state = "revoked" if token.revoked_at else ("usable" if token.is_usable else "expired")
            self.stdout.write(f"{token.key_prefix}\t{token.user.username}\t{token.scope}\t{state}\t{token.name}")

    def _revoke(self, *, prefix, **_):
        matches = list(ApiToken.objects.filter(key_prefix__startswith=prefix))
        if len(matches) != 1:
            raise CommandError(f"{len(matches)} tokens start with {prefix!r}: give more of the prefix")
        if not services.token_revoke(matches[0]):
            raise CommandError(f"token {matches[0].key_prefix} was already revoked")
        self.stdout.write(f"revoked {matches[0].key_prefix}")
