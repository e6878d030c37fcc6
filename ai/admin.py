"""Admin for training runs (progress, loss curve, train now, cancel) and model versions (promote, rollback)."""
from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from ai import registry
from ai.charts import line_chart_svg
from ai.kinds import all_kinds, get_kind
from ai.models import Event, ModelVersion, TrainingRun
from ai.training import cancel_run, dispatch, start_run
from ai.training.services import RunConflict

ADMIN_CSS = {"all": ["ai/admin.css"]}  # colours of the status badges, the log boxes (no inline styles)


def _badge(status: str, label: str):
    return format_html('<strong class="ai-status ai-status-{}">{}</strong>', status, label)


def metrics_summary(metrics: dict, limit: int = 3) -> str:
    numbers = [(name, value) for name, value in metrics.items() if isinstance(value, (int, float))]
    preferred = sorted(numbers, key=lambda item: ("@" not in item[0], item[0]))[:limit]
    return ", ".join(f"{name} {value:.4g}" for name, value in preferred) or "–"


class TrainNowForm(forms.Form):
    kind = forms.ChoiceField(choices=())
    options = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text='JSON object of the kind\'s options, e.g. {"half_life_days": 14}. Empty: the defaults.',
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(name, cls.label or name) for name, cls in sorted(all_kinds().items())]

    def clean_options(self) -> dict:
        raw = (self.cleaned_data.get("options") or "").strip()
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
        if not isinstance(value, dict):
            raise forms.ValidationError("Give a JSON object, e.g. {\"half_life_days\": 14}")
        return value

    def clean(self):
        cleaned = super().clean()
        kind, options = cleaned.get("kind"), cleaned.get("options")
        if kind and options is not None:
            try:
                cleaned["options"] = get_kind(kind).clean_options(options)
            except ValueError as exc:
                self.add_error("options", str(exc))
        return cleaned


def loss_curve_x_axis(curve: list[dict]) -> str:
    """What to draw the loss against: the step where kinds count steps, else the epoch where they report
    once per epoch, else the order of the reports (a kind that refits starts its epochs again)."""
    for key in ("step", "epoch"):
        values = [point.get(key) for point in curve]
        numbers = [v for v in values if isinstance(v, (int, float))]
        if len(numbers) == len(values) and all(a < b for a, b in zip(numbers, numbers[1:], strict=False)):
            return key
    return "report"

class ReadOnlyRecordAdmin(admin.ModelAdmin):
    """For records that are history, not settings: nothing to add, save or delete in the admin.

    Change permission is left alone, so the list's actions (cancel, promote) still work; the change form
    simply offers no Save or Delete buttons, and a forged POST has no editable field to write.
    """

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_readonly_fields(self, request, obj=None):
        if self.fieldsets:
            return [field for fieldset in self.fieldsets for field in fieldset[1]["fields"]]
        return list(self.fields or [field.name for field in self.model._meta.fields])

    def change_view(self, request, object_id, form_url="", extra_context=None):
        no_buttons = {"show_save": False, "show_save_and_continue": False, "show_save_and_add_another": False,
                      "show_delete": False}
        return super().change_view(request, object_id, form_url, {**no_buttons, **(extra_context or {})})


@admin.register(TrainingRun)
class TrainingRunAdmin(ReadOnlyRecordAdmin):
    list_display = ["id", "kind", "status_badge", "progress_bar", "device", "metrics_short", "duration", "requested", "created_at"]
    list_display_links = ["id", "kind"]
    list_filter = ["status", "kind", "requested_via"]
    search_fields = ["kind", "worker", "error"]
    actions = ["cancel_selected"]
    change_list_template = "admin/ai/trainingrun/change_list.html"

    class Media:
        css = ADMIN_CSS
    fieldsets = [
        (None, {"fields": ["kind", "status_badge", "status_detail", "progress_bar", "options", "requested", "model_version_link"]}),
        ("Worker", {"fields": ["device", "worker", "celery_task_id", "attempts", "heartbeat_at", "cancel_requested"]}),
        ("Timings", {"fields": ["created_at", "started_at", "finished_at", "duration"]}),
        ("Results", {"fields": ["metrics_table", "loss_chart", "data_summary"]}),
        ("Log", {"fields": ["log_display", "error", "traceback_display"]}),
    ]

    # No "add": runs are started with "Train now", the API or ai_train.

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("requested_by")

    # Columns and read-only fields -----------------------------------------------------------------
    @admin.display(description="status", ordering="status")
    def status_badge(self, run: TrainingRun):
        label = run.get_status_display()
        if run.cancel_requested and not run.is_finished:
            label += " (cancelling)"
        return _badge(run.status, label)

    @admin.display(description="progress", ordering="progress")
    def progress_bar(self, run: TrainingRun):
        return format_html(
            '<progress class="ai-progress" value="{}" max="100" title="{}%"></progress> {}%',
            f"{run.progress:.1f}",
            f"{run.progress:.1f}",
            f"{run.progress:.0f}",
        )

    @admin.display(description="metrics")
    def metrics_short(self, run: TrainingRun) -> str:
        return metrics_summary(run.metrics)

    @admin.display(description="duration")
    def duration(self, run: TrainingRun) -> str:
        return f"{run.duration_s:.1f} s" if run.duration_s is not None else "–"

    @admin.display(description="requested")
    def requested(self, run: TrainingRun) -> str:
        who = run.requested_by.get_username() if run.requested_by is not None else ""
        return " via ".join(part for part in (who, run.requested_via) if part) or "–"

    @admin.display(description="model version")
    def model_version_link(self, run: TrainingRun):
        version = getattr(run, "model_version", None)
        if version is None:
            return "–"
        url = reverse("admin:ai_modelversion_change", args=[version.pk])
        return format_html('<a href="{}">{}</a>', url, str(version))

    @admin.display(description="metrics")
    def metrics_table(self, run: TrainingRun):
        if not run.metrics:
            return "–"
        rows = format_html_join(
            "", "<tr><th>{}</th><td>{}</td></tr>",
            ((name, f"{value:.4f}" if isinstance(value, float) else value) for name, value in sorted(run.metrics.items())),
        )
        return format_html("<table>{}</table>", rows)

    @admin.display(description="loss curve")
    def loss_chart(self, run: TrainingRun):
        curve = [point for point in run.loss_curve if "loss" in point]
        x_key = loss_curve_x_axis(curve)
        points = [(point[x_key] if x_key != "report" else i + 1, point["loss"]) for i, point in enumerate(curve)]
        return line_chart_svg([("loss", points)], x_label=x_key, y_label="loss", empty_message="No loss reported yet")

    @admin.display(description="log tail")
    def log_display(self, run: TrainingRun):
        return format_html('<pre class="ai-log">{}</pre>', run.log_tail or "–")

    @admin.display(description="traceback")
    def traceback_display(self, run: TrainingRun):
        if not run.traceback:
            return "–"
        return format_html('<pre class="ai-traceback">{}</pre>', run.traceback)

    # Actions and the "Train now" view ---------------------------------------------------------------
    # Each action needs its model permission (a staff member without it sees no such action):
    # train now = ai.add_trainingrun, cancel = ai.change_trainingrun, promote and roll back = ai.change_modelversion.
    def has_train_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff and request.user.has_perm("ai.add_trainingrun")

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("ai.change_trainingrun")

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"can_train": self.has_train_permission(request), **(extra_context or {})})

    @admin.action(description="Cancel selected runs", permissions=["cancel"])
    def cancel_selected(self, request: HttpRequest, queryset) -> None:
        cancelled = 0
        for run in queryset:
            if not run.is_finished:
                cancel_run(run)
                cancelled += 1
        self.message_user(request, f"Asked {cancelled} run(s) to stop; finished runs were left alone.", messages.SUCCESS)

    def get_urls(self):
        return [
            path("train/", self.admin_site.admin_view(self.train_now_view), name="ai_trainingrun_train"),
            *super().get_urls(),
        ]

    def train_now_view(self, request: HttpRequest):
        if not self.has_train_permission(request):
            raise PermissionDenied("Training a model needs the permission ai.add_trainingrun.")
        form = TrainNowForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    run = start_run(form.cleaned_data["kind"], form.cleaned_data["options"], user=request.user, via="admin")
            except RunConflict as exc:
                form.add_error(None, str(exc))
            else:
                run.refresh_from_db()
                where = "ran" if dispatch.in_process() else "was sent"
                self.message_user(
                    request, f"{run.kind} run #{run.pk} {where} {dispatch.destination()}: {run.status}.", messages.SUCCESS
                )
                return HttpResponseRedirect(reverse("admin:ai_trainingrun_change", args=[run.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Train a model now",
            "form": form,
            "kinds": [(name, cls.default_options) for name, cls in sorted(all_kinds().items())],
        }
        return TemplateResponse(request, "admin/ai/trainingrun/train_now.html", context)


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyRecordAdmin):
    list_display = ["__str__", "kind", "version", "status_badge", "score", "metrics_short", "training_run_link", "created_at", "promoted_at", "load_error_short"]
    list_filter = ["kind", "status"]
    actions = ["promote_selected", "rollback_kinds"]

    class Media:
        css = ADMIN_CSS
    readonly_fields = fields = (
        "kind", "version", "status", "training_run_link", "artifact_dir", "checksums", "config", "metrics",
        "primary_metric", "created_at", "promoted_at", "retired_at", "load_error", "evaluation_report",
    )

    @admin.display(description="evaluation report")
    def evaluation_report(self, version: ModelVersion):
        from ai.report_display import render_version_report

        return render_version_report(version.report)

    @admin.display(description="status", ordering="status")
    def status_badge(self, version: ModelVersion):
        return _badge(version.status, version.get_status_display())

    @admin.display(description="primary metric")
    def score(self, version: ModelVersion) -> str:
        value = version.primary_score
        return f"{version.primary_metric} {value:.4f}" if value is not None else "–"

    @admin.display(description="metrics")
    def metrics_short(self, version: ModelVersion) -> str:
        return metrics_summary(version.metrics)

    @admin.display(description="training run")
    def training_run_link(self, version: ModelVersion):
        if not version.training_run_id:
            return "–"
        url = reverse("admin:ai_trainingrun_change", args=[version.training_run_id])
        return format_html('<a href="{}">run #{}</a>', url, version.training_run_id)

    @admin.display(description="load error")
    def load_error_short(self, version: ModelVersion):
        if not version.load_error:
            return "–"
        return format_html('<span class="ai-load-error" title="{}">{}</span>', version.load_error, version.load_error[:80])

    def has_promote_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("ai.change_modelversion")

    @admin.action(description="Promote the selected version to live", permissions=["promote"])
    def promote_selected(self, request: HttpRequest, queryset) -> None:
        versions = list(queryset)
        if len({version.kind for version in versions}) != len(versions):
            self.message_user(request, "Select at most one version per kind to promote.", messages.ERROR)
            return
        for version in versions:
            try:
                version = registry.promote(version, user=request.user)
            except registry.RegistryError as exc:
                self.message_user(request, f"{version} not promoted: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{version.kind} v{version.version} is live.", messages.SUCCESS)

    @admin.action(description="Roll the selected versions' kinds back to their previous live version", permissions=["promote"])
    def rollback_kinds(self, request: HttpRequest, queryset) -> None:
        for kind in sorted(set(queryset.values_list("kind", flat=True))):
            try:
                version = registry.rollback(kind, user=request.user)
            except registry.RegistryError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(request, f"{kind} rolled back: v{version.version} is live.", messages.SUCCESS)
@admin.register(Event)
class EventAdmin(ReadOnlyRecordAdmin):
    """Recorded behaviour, for looking up what the models learn from (never edited by hand)."""

    list_display = ["created_at", "event_type", "visitor_id", "user", "product_id", "placement", "model_version"]
    list_filter = ["event_type", "placement"]
    search_fields = ["visitor_id", "query"]
    date_hierarchy = "created_at"
    fields = ["created_at", "event_type", "visitor_id", "user", "product_id", "query", "placement",
              "model_version", "extra"]
    list_select_related = ["user", "model_version"]
    show_full_result_count = False


from ai.chat import admin as _chat_admin  # noqa: E402,F401  (the support inbox and what staff edit for the bot)

from . import admin_stats  # noqa: E402,F401  (the "Recommendation performance" page)
from .annotation import admin as annotation_admin  # noqa: E402,F401  (label sets and items)
