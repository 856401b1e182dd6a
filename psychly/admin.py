"""The background tasks' outcomes in the admin: django-tasks-db's results, read-only, with who started each.

Editors and reviewers hold the view permission (references migration 0008) and see the tasks they started
(``requested_by`` in the task's keyword arguments, carried to every retry); admins see all of them.
"""

from django.contrib import admin
from django.contrib.auth.models import User
from django.db.models import IntegerField, OuterRef, Subquery
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult

# django-tasks-db registers its own (imported above, so always first); this one replaces it.
admin.site.unregister(DBTaskResult)

REQUESTED_BY = KeyTextTransform("requested_by", KeyTransform("kwargs", "args_kwargs"))


class StartedByMeFilter(admin.SimpleListFilter):
    title = "started by"
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return [("1", "Me")]

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.filter(requested_by_id=request.user.pk)
        return queryset


@admin.register(DBTaskResult)
class TaskResultAdmin(DBTaskResultAdmin):
    list_display = ("task_name", "status", "attempt", "error", "started_by", "enqueued_at", "finished_at")
    list_filter = ("status", StartedByMeFilter)

    def get_queryset(self, request):
        # The starter's name in the same query: one query for the whole list, whatever its length.
        queryset = super().get_queryset(request).annotate(
            requested_by_id=Cast(REQUESTED_BY, IntegerField()),
        ).annotate(
            requested_by_name=Subquery(User.objects.filter(pk=OuterRef("requested_by_id")).values("username")[:1]),
        )
        if request.user.is_superuser:
            return queryset
        # Others' tasks may name their recipients and drafts; each person sees what they started.
        return queryset.filter(requested_by_id=request.user.pk)

    @admin.display(description="attempt")
    def attempt(self, obj):
        return (obj.args_kwargs.get("kwargs") or {}).get("attempt", 1)

    @admin.display(description="error")
    def error(self, obj):
        # The traceback's last line is the exception and its message, which says what failed and what follows.
        lines = [line for line in (obj.traceback or "").splitlines() if line.strip()]
        return lines[-1][:300] if lines else ""

    @admin.display(description="started by")
    def started_by(self, obj):
        return getattr(obj, "requested_by_name", None) or "—"
