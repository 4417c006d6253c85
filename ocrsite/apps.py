from django.apps import AppConfig


class OpsConfig(AppConfig):
    """The project package as an app, so that its system checks are registered at start-up."""

    name = "ocrsite"
    label = "ocrsite_ops"
    verbose_name = "Operations"

    def ready(self):
        from . import checks  # noqa: F401  (registers the "ocr" checks)
