from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What several apps share: errors, the status vocabulary, path policy, admin helpers and API access."""

    name = "core"
    verbose_name = "API 访问"

    def ready(self):
        from . import schema  # noqa: F401  (registers the token scheme with drf-spectacular)
