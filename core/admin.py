"""API tokens in the admin: create one (its secret is shown once, on the page after saving) and revoke.
Celery's result tables are left out of the admin: the service records pages and tasks in its own tables
and ignores job results, so those sections would only ever be empty."""

from django.conf import settings
from django.contrib import admin, messages
from django_celery_results.models import ChordCounter, GroupResult, TaskResult

from . import services
from .models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "scope", "key_prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    list_filter = ("scope", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "key_prefix", "user__username")
    readonly_fields = ("key_prefix", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        # A saved token's owner and scope stay as issued: revoke it and create another instead.
        return self.readonly_fields + (("user", "scope") if obj else ())

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        secret = obj.issue_secret()
        super().save_model(request, obj, form, change)
        self.message_user(request, f"令牌已创建，只显示这一次，请立即保存：{secret}", messages.WARNING)

    @admin.action(description="吊销所选令牌")
    def revoke(self, request, queryset):
        count = sum(services.token_revoke(token) for token in queryset)
        self.message_user(request, f"已吊销 {count} 个令牌", messages.SUCCESS)


for model in (TaskResult, GroupResult, ChordCounter):
    if admin.site.is_registered(model):
        admin.site.unregister(model)

admin.site.site_header = admin.site.site_title = f"{settings.APP_NAME} 管理后台"
admin.site.index_title = "书籍、任务、识别结果与导出"
