from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "exports"
    verbose_name = "导出"

    def ready(self):
        from . import signals  # noqa: F401  (export files follow their task)
