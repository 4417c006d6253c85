"""Who is calling the API and what they may do.

- A token (`Authorization: Bearer <token>` or `Token <token>`) acts as its user, within its scope: `read`
  for GET, `write` for changes, `admin` for every user's tasks and the operations endpoints.
- A dashboard login (the session; DRF enforces its CSRF token) acts as that user: staff see every task.
- Without either, a caller is let in only where tokens are optional (API_TOKEN_REQUIRED off, the embedded
  mode's default) or from API_TRUSTED_NETWORKS (loopback by default, so that clients on the server itself
  work unchanged). Such a caller is the machine's operator and sees every task.
- A non-staff user or a read/write token sees and changes only the tasks it created (403 otherwise).
"""

import ipaddress
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.utils import timezone
from rest_framework import authentication, exceptions, permissions

from .models import ApiToken, TokenScope, token_digest

SCHEMES = ("bearer", "token")


@lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]):
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def address_in(address: str, networks: list[str] | tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip in network for network in _networks(tuple(networks)))


def client_address(request) -> str:
    """The caller's address: REMOTE_ADDR, or the address a trusted proxy (FORWARDED_ALLOW_IPS) reports
    as the last hop in X-Forwarded-For. A header from anyone else is ignored: it is the client's to forge."""
    remote = request.META.get("REMOTE_ADDR", "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    proxies = [item.strip() for item in settings.FORWARDED_ALLOW_IPS.split(",") if item.strip()]
    if forwarded and ("*" in proxies or remote in proxies):
        return forwarded.split(",")[-1].strip()
    return remote


def from_trusted_network(request) -> bool:
    return address_in(client_address(request), settings.API_TRUSTED_NETWORKS)


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <token>` (or DRF's `Token <token>`): the token's user, and the token as
    `request.auth`. A wrong, revoked or expired token is a 401, never a fall-back to anonymous."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode("latin-1").lower() not in SCHEMES:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Authorization 头格式应为：Bearer <令牌>")
        secret = header[1].decode("latin-1")
        token = (ApiToken.objects.usable().select_related("user")
                 .filter(key_digest=token_digest(secret)).first())
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("令牌无效、已吊销或已过期")
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)  # at most one write a minute
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


@dataclass(frozen=True)
class Principal:
    """The caller as the task rules see it: `user` owns what it creates; `sees_all` reaches every task."""

    user: object | None
    sees_all: bool

    def owns(self, task) -> bool:
        return self.sees_all or (self.user is not None and task.owner_id == self.user.pk)


def principal_of(request) -> Principal:
    token = request.auth if isinstance(getattr(request, "auth", None), ApiToken) else None
    if token is not None:
        return Principal(token.user, token.allows(TokenScope.ADMIN))
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return Principal(user, user.is_staff)
    return Principal(None, True)


class ApiAccess(permissions.BasePermission):
    """The default permission of every API view (see the module's description)."""

    def has_permission(self, request, view):
        token = request.auth if isinstance(request.auth, ApiToken) else None
        if token is not None:
            needed = TokenScope.READ if request.method in permissions.SAFE_METHODS else TokenScope.WRITE
            if not token.allows(needed):
                self.message = f"令牌范围 {token.scope} 不允许此操作（需要 {needed}）"
                return False
            return True
        if request.user is not None and request.user.is_authenticated:
            return True
        if not settings.API_TOKEN_REQUIRED or from_trusted_network(request):
            return True
        raise exceptions.NotAuthenticated("需要 API 令牌：请求头 Authorization: Bearer <令牌>")


def may_operate(request) -> bool:
    """The operations endpoints' details (`/ready` checks, `/metrics`): an admin token, or a caller from
    OPS_ALLOWED_NETWORKS. A token is looked up in the database: DatabaseError when it does not answer."""
    return address_in(client_address(request), settings.OPS_ALLOWED_NETWORKS) or _admin_token(request)


def _admin_token(request) -> bool:
    try:
        found = BearerTokenAuthentication().authenticate(request)
    except exceptions.AuthenticationFailed:
        return False
    return bool(found) and found[1].allows(TokenScope.ADMIN)
