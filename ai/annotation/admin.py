"""Admin for the annotation workbench: label sets (with their labels, progress, agreement, models and
the labelling, review, import, export and train views) and items (search, filters, relabel)."""
from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from ai.models import Annotation, Item, Label, LabelSet, ModelVersion

from . import admin_views, counters
from .agreement import agreement_report

RESERVED_KEYS = set("123456789su?") | {"Enter"}


class LabelFormSet(forms.BaseInlineFormSet):
    """Names and hotkeys unique within the set, checked across the forms of one save."""

    def clean(self):
        super().clean()
        names, keys = {}, {}
        for form in self.forms:
            if not getattr(form, "cleaned_data", None) or form.cleaned_data.get("DELETE"):
                continue
            name = (form.cleaned_data.get("name") or "").strip()
            key = (form.cleaned_data.get("hotkey") or "").strip()
            if name in names:
                form.add_error("name", f"The label {name!r} appears twice in this set.")
            names[name] = form
            if key:
                if key.lower() in RESERVED_KEYS:
                    form.add_error("hotkey", f"{key!r} is taken by the labelling page (1-9, s, u, ?).")
                elif key.lower() in keys:
                    form.add_error("hotkey", f"The hotkey {key!r} is used twice in this set.")
                keys[key.lower()] = form


class LabelInline(admin.TabularInline):
    model = Label
    formset = LabelFormSet
    fields = ["position", "name", "hotkey", "description"]
    extra = 1


@admin.register(LabelSet)
class LabelSetAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "task", "overlap", "items_total", "items_done", "in_review", "workbench_links"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [LabelInline]
    readonly_fields = ["workbench_links", "progress_table", "agreement_table", "model_versions"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "task", "overlap", "uncertainty", "source", "guidelines"]}),
        ("Workbench", {"fields": ["workbench_links", "progress_table", "agreement_table", "model_versions"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            n_items=Count("items"),
            n_done=Count("items", filter=Q(items__complete=True)),
            n_review=Count("items", filter=Q(items__disagreement=True)),
        )

    @admin.display(description="items", ordering="n_items")
    def items_total(self, obj: LabelSet) -> int:
        return obj.n_items  # type: ignore[attr-defined]  # annotated by get_queryset

    @admin.display(description="done", ordering="n_done")
    def items_done(self, obj: LabelSet) -> int:
        return obj.n_done  # type: ignore[attr-defined]  # annotated by get_queryset

    @admin.display(description="to review", ordering="n_review")
    def in_review(self, obj: LabelSet) -> int:
        return obj.n_review  # type: ignore[attr-defined]  # annotated by get_queryset

    @admin.display(description="workbench")
    def workbench_links(self, obj: LabelSet):
        if obj.pk is None:
            return "–"
        links = [
            (reverse("admin:ai_labelset_label", args=[obj.pk]), "Label"),
            (reverse("admin:ai_labelset_review", args=[obj.pk]), "Review"),
            (reverse("admin:ai_item_changelist") + f"?label_set__id__exact={obj.pk}", "Items"),
            (reverse("admin:ai_labelset_import", args=[obj.pk]), "Import"),
            (reverse("admin:ai_labelset_export", args=[obj.pk]) + "?format=csv", "Export gold (CSV)"),
            (reverse("admin:ai_labelset_export", args=[obj.pk]) + "?format=jsonl", "(JSONL)"),
            (reverse("admin:ai_labelset_export", args=[obj.pk]) + "?format=csv&all=1", "Export all annotations"),
        ]
        return format_html_join(" · ", '<a href="{}">{}</a>', links)

    @admin.display(description="progress")
    def progress_table(self, obj: LabelSet):
        if obj.pk is None:
            return "–"
        counts = Item.objects.filter(label_set=obj).aggregate(
            total=Count("pk"), done=Count("pk", filter=Q(complete=True)), gold=Count("pk", filter=~Q(gold_source="")),
            review=Count("pk", filter=Q(disagreement=True)),
        )
        return format_html(
            "<table><tr><th>items</th><td>{}</td></tr><tr><th>done</th><td>{}</td></tr>"
            "<tr><th>with a gold label</th><td>{}</td></tr><tr><th>waiting for review</th><td>{}</td></tr></table>",
            counts["total"], counts["done"], counts["gold"], counts["review"],
        )

    @admin.display(description="agreement")
    def agreement_table(self, obj: LabelSet):
        if obj.pk is None:
            return "–"
        from django.contrib.auth import get_user_model

        report = agreement_report(obj)
        names = dict(Label.objects.filter(label_set=obj).values_list("pk", "name"))
        people = dict(get_user_model().objects.filter(
            pk__in={who for pair in report["pairs"] for who in pair["annotators"]}
        ).values_list("pk", "username"))

        def number(value):
            return "–" if value is None else f"{value:.3f}"

        pairs = format_html_join(
            "", "<tr><td>{} & {}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((people.get(p["annotators"][0]), people.get(p["annotators"][1]), p["items"], number(p["observed"]), number(p["kappa"])) for p in report["pairs"]),
        )
        labels = format_html_join(
            "", "<tr><td>{}</td><td>{}</td></tr>", ((names.get(pk, pk), number(v)) for pk, v in report["per_label"].items())
        )
        return format_html(
            "<p>Items with two or more annotators: {}. Fleiss' kappa ({} annotators per item, {} items): {}</p>"
            "<table><thead><tr><th>pair</th><th>items</th><th>observed</th><th>Cohen's kappa</th></tr></thead><tbody>{}</tbody></table>"
            "<table><thead><tr><th>label</th><th>specific agreement</th></tr></thead><tbody>{}</tbody></table>",
            report["items_with_several"], report["fleiss_raters"], report["fleiss_items"], number(report["fleiss_kappa"]),
            pairs, labels,
        )

    @admin.display(description="models")
    def model_versions(self, obj: LabelSet):
        if obj.pk is None:
            return "–"
        versions = ModelVersion.objects.filter(kind=obj.model_key).order_by("-version")[:10]
        rows = format_html_join(
            "", '<tr><td><a href="{}">v{}</a></td><td>{}</td><td>{}</td></tr>',
            (
                (reverse("admin:ai_modelversion_change", args=[v.pk]), v.version, v.status,
                 f"macro-F1 {v.metrics['macro_f1']:.3f}" if "macro_f1" in v.metrics else "–")
                for v in versions
            ),
        )
        return format_html("<table>{}</table>", rows) if versions else "No model trained on this set yet."

    def get_urls(self):
        site = self.admin_site

        def page(view):
            return site.admin_view(lambda request, pk: view(self, request, pk))

        return [
            path("<int:pk>/label/", page(admin_views.label_page), name="ai_labelset_label"),
            path("<int:pk>/label/next/", site.admin_view(admin_views.next_view), name="ai_labelset_next"),
            path("<int:pk>/label/item/<int:item_id>/", site.admin_view(admin_views.item_view), name="ai_labelset_item"),
            path("<int:pk>/label/annotate/", site.admin_view(admin_views.annotate_view), name="ai_labelset_annotate"),
            path("<int:pk>/label/skip/", site.admin_view(admin_views.skip_view), name="ai_labelset_skip"),
            path("<int:pk>/label/undo/", site.admin_view(admin_views.undo_view), name="ai_labelset_undo"),
            path("<int:pk>/review/", page(admin_views.review_page), name="ai_labelset_review"),
            path("<int:pk>/import/", page(admin_views.import_page), name="ai_labelset_import"),
            path("<int:pk>/export/", site.admin_view(admin_views.export_view), name="ai_labelset_export"),
            path("<int:pk>/train/", site.admin_view(admin_views.train_view), name="ai_labelset_train"),
            path("<int:pk>/add-products/", site.admin_view(admin_views.add_products_view), name="ai_labelset_add_products"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_train": request.user.has_perm("ai.train_labelset"),
                         "can_import": request.user.has_perm("ai.import_labelset")}
        return super().change_view(request, object_id, form_url, extra_context)


class AnnotatorFilter(admin.SimpleListFilter):
    title = "annotator"
    parameter_name = "annotator"

    def lookups(self, request, model_admin):
        from django.contrib.auth import get_user_model

        ids = Annotation.objects.filter(annotator__isnull=False).values("annotator_id").distinct()
        return [(str(pk), name) for pk, name in get_user_model().objects.filter(pk__in=ids).values_list("pk", "username")]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(Exists(Annotation.objects.filter(item=OuterRef("pk"), annotator_id=self.value())))
        return queryset


class LabelFilter(admin.SimpleListFilter):
    title = "label (any annotation)"
    parameter_name = "label"

    def lookups(self, request, model_admin):
        label_set = request.GET.get("label_set__id__exact")
        labels = Label.objects.filter(label_set_id=label_set) if label_set else Label.objects.all()
        return [(str(pk), f"{name}") for pk, name in labels.values_list("pk", "name")[:200]]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(Exists(Annotation.objects.filter(item=OuterRef("pk"), label_id=self.value())))
        return queryset


class ModelDisagreementFilter(admin.SimpleListFilter):
    title = "model vs. people"
    parameter_name = "model"

    def lookups(self, request, model_admin):
        return [("disagrees", "model disagrees with the gold label"), ("agrees", "model agrees")]

    def queryset(self, request, queryset):
        single = queryset.filter(gold_label__isnull=False, suggestion__isnull=False)
        if self.value() == "disagrees":
            return single.exclude(suggestion=F("gold_label"))
        if self.value() == "agrees":
            return single.filter(suggestion=F("gold_label"))
        return queryset


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["short_text", "label_set", "gold_label", "gold_source", "annotation_count", "disagreement", "suggestion", "split", "relabel"]
    list_filter = ["label_set", "gold_source", "disagreement", "complete", "split", "source", AnnotatorFilter, LabelFilter, ModelDisagreementFilter]
    search_fields = ["text"]
    list_select_related = ["label_set", "gold_label", "suggestion"]
    readonly_fields = (
        "label_set", "text", "metadata", "source", "source_ref", "split", "created_at", "annotation_count", "complete",
        "disagreement", "gold_label", "gold_labels", "gold_source", "suggestion", "suggestion_score", "uncertainty",
        "scored_version", "annotations_list", "relabel",
    )
    fields = readonly_fields
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False  # items come from imports, the shop and the chat

    def delete_model(self, request, obj: Item) -> None:
        label_set = obj.label_set
        with transaction.atomic():
            super().delete_model(request, obj)
            counters.recount(label_set)

    def delete_queryset(self, request, queryset) -> None:
        sets = list(LabelSet.objects.filter(pk__in=queryset.values("label_set_id")))
        with transaction.atomic():
            super().delete_queryset(request, queryset)
            for label_set in sets:
                counters.recount(label_set)

    @admin.display(description="text")
    def short_text(self, item: Item) -> str:
        return item.text[:90] + ("…" if len(item.text) > 90 else "")

    @admin.display(description="relabel")
    def relabel(self, item: Item):
        url = reverse("admin:ai_labelset_label", args=[item.label_set_id]) + f"?item={item.pk}"
        return format_html('<a href="{}">relabel</a>', url)

    @admin.display(description="annotations")
    def annotations_list(self, item: Item):
        rows = item.annotations.select_related("label", "annotator").order_by("created_at")
        return format_html_join(
            "", "<div>{}: {} ({})</div>",
            ((a.annotator.get_username() if a.annotator is not None else "import", a.label.name, a.created_at.strftime("%Y-%m-%d %H:%M")) for a in rows),
        ) or "–"
