"""Request rates: per token (API_THROTTLE_TOKEN) and per client address for calls without a token
(API_THROTTLE_ADDRESS; trusted networks are not limited). Counts live in the Django cache (Redis in the
full mode, files under DATA_DIR in the embedded mode), so every process of a machine shares them. An
exceeded rate is a 429 THROTTLED with Retry-After."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from .access import client_address, from_trusted_network
from .models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    scope = "token"

    def get_rate(self):
        return settings.API_THROTTLE_TOKEN or None

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.key_digest}


class AddressRateThrottle(SimpleRateThrottle):
    scope = "address"

    def get_rate(self):
        return settings.API_THROTTLE_ADDRESS or None

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken) or from_trusted_network(request):
            return None
        return self.cache_format % {"scope": self.scope, "ident": client_address(request)}
