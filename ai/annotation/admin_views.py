"""The labelling page's JSON endpoints and the review, import, export and train views (thin: the logic is
in ai.annotation.labelling, importing, exporting). Every view checks its role's permission."""
from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from ai.models import Annotation, Item, Label, LabelSet

from . import counters, labelling
from .exporting import EmptyExport, export_labels
from .importing import ImportFailed, guess_format, import_items
from .services import InvalidText, add_product_items

MAX_IMPORT_BYTES = 50 * 1024 * 1024


def require(request: HttpRequest, action: str) -> None:
    if not request.user.has_perm(f"ai.{action}_labelset"):
        raise PermissionDenied(f"You may not {action} label sets.")


def progress(label_set: LabelSet, user) -> dict[str, int]:
    return counters.progress(label_set.pk, user.pk)


def item_payload(item: Item | None, user) -> dict[str, Any] | None:
    if item is None:
        return None
    mine = list(Annotation.objects.filter(item=item, annotator=user).values_list("label_id", flat=True))
    suggestion = None
    if item.suggestion_id is not None:
        suggestion = {"label": item.suggestion_id, "score": round(item.suggestion_score or 0.0, 3)}
    return {
        "id": item.pk, "text": item.text, "metadata": item.metadata, "split": item.split, "mine": mine,
        "gold": item.gold_labels, "suggestion": suggestion,
    }


def _json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise labelling.LabellingError("the request body must be JSON") from None
    if not isinstance(body, dict):
        raise labelling.LabellingError("the request body must be a JSON object")
    return body


def _item_id(body: dict[str, Any]) -> int:
    try:
        return int(body["item"])
    except (TypeError, ValueError):
        raise labelling.LabellingError("give the item's id") from None


def _next(label_set: LabelSet, request: HttpRequest) -> JsonResponse:
    from .scoring import schedule_scoring  # loads the model code (torch) only when the page asks

    live_version_id = labelling.live_model_version_id(label_set)
    schedule_scoring(label_set, live_version_id)
    item = labelling.next_item(label_set, request.user, model_live=live_version_id is not None)
    return JsonResponse({"item": item_payload(item, request.user), "progress": progress(label_set, request.user)})


def _label_set(pk: int) -> LabelSet:
    return get_object_or_404(LabelSet, pk=pk)


def _errors(view):
    """Turn a labelling error into a 400 with {"error": message}; a missing item into a 404."""

    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except labelling.LabellingError as exc:
            return JsonResponse({"error": str(exc)}, status=400)
        except Item.DoesNotExist:
            return JsonResponse({"error": "no such item"}, status=404)

    wrapped.__name__ = view.__name__
    return wrapped


@require_GET
@_errors
def next_view(request: HttpRequest, pk: int) -> JsonResponse:
    require(request, "annotate")
    return _next(_label_set(pk), request)


@require_GET
@_errors
def item_view(request: HttpRequest, pk: int, item_id: int) -> JsonResponse:
    require(request, "annotate")
    label_set = _label_set(pk)
    item = Item.objects.select_related("suggestion").get(pk=item_id, label_set=label_set)
    return JsonResponse({"item": item_payload(item, request.user), "progress": progress(label_set, request.user)})


@require_POST
@_errors
def annotate_view(request: HttpRequest, pk: int) -> JsonResponse:
    require(request, "annotate")
    label_set = _label_set(pk)
    body = _json_body(request)
    labels = body.get("labels")
    if not isinstance(labels, list):
        raise labelling.LabellingError("labels must be a list of label ids")
    labelling.annotate(
        _item_id(body), request.user, labels, accepted_suggestion=bool(body.get("accepted_suggestion")), label_set_id=label_set.pk
    )
    return _next(label_set, request)


@require_POST
@_errors
def skip_view(request: HttpRequest, pk: int) -> JsonResponse:
    require(request, "annotate")
    label_set = _label_set(pk)
    labelling.skip(_item_id(_json_body(request)), request.user, label_set_id=label_set.pk)
    return _next(label_set, request)


@require_POST
@_errors
def undo_view(request: HttpRequest, pk: int) -> JsonResponse:
    require(request, "annotate")
    label_set = _label_set(pk)
    item = labelling.undo_last(label_set, request.user)
    if item is None:
        raise labelling.LabellingError("nothing to undo")
    item = Item.objects.select_related("suggestion").get(pk=item.pk)
    return JsonResponse({"item": item_payload(item, request.user), "progress": progress(label_set, request.user)})


def label_page(admin_view, request: HttpRequest, pk: int) -> TemplateResponse:
    require(request, "annotate")
    label_set = _label_set(pk)
    labels = list(Label.objects.filter(label_set=label_set).order_by("position", "pk"))
    keys = [
        {"id": label.pk, "name": label.name, "description": label.description, "digit": str(n) if n <= 9 else "", "hotkey": label.hotkey}
        for n, label in enumerate(labels, start=1)
    ]
    base = reverse("admin:ai_labelset_label", args=[pk])
    context = {
        **admin_view.admin_site.each_context(request),
        "opts": LabelSet._meta,
        "title": f"Label: {label_set.name}",
        "label_set": label_set,
        "labels": keys,
        "guidelines_html": render_guidelines(label_set.guidelines),
        "urls": {
            "next": base + "next/", "annotate": base + "annotate/", "skip": base + "skip/", "undo": base + "undo/",
            "item": base + "item/",
        },
        "start_item": request.GET.get("item", ""),
    }
    return TemplateResponse(request, "admin/ai/labelset/label.html", context)


def render_guidelines(text: str) -> str:
    """A small, safe Markdown subset (headings, lists, **bold**, *italic*, `code`, paragraphs); HTML is escaped."""
    import re

    from django.utils.html import escape

    def inline(line: str) -> str:
        line = escape(line)
        line = re.sub(r"`([^`]+)`", r"<code>\1</code>", line)
        line = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", line)
        return re.sub(r"\*([^*]+)\*", r"<em>\1</em>", line)

    html: list[str] = []
    paragraph: list[str] = []
    in_list = False

    def flush() -> None:
        if paragraph:
            html.append("<p>" + " ".join(paragraph) + "</p>")
            paragraph.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith(("- ", "* ")):
            flush()
            if not in_list:
                html.append("<ul>")
                in_list = True
            html.append(f"<li>{inline(line[2:])}</li>")
            continue
        if in_list:
            html.append("</ul>")
            in_list = False
        if not line:
            flush()
        elif line.startswith("#"):
            flush()
            html.append(f"<h3>{inline(line.lstrip('#').strip())}</h3>")
        else:
            paragraph.append(inline(line))
    flush()
    if in_list:
        html.append("</ul>")
    return "".join(html)


def review_page(admin_view, request: HttpRequest, pk: int):
    require(request, "review")
    label_set = _label_set(pk)
    if request.method == "POST":
        try:
            item_id = int(request.POST.get("item", ""))
            label_ids = [int(pk) for pk in request.POST.getlist("label")]
            labelling.resolve(item_id, request.user, label_ids, label_set_id=label_set.pk)
        except (ValueError, Item.DoesNotExist) as exc:
            messages.error(request, f"Not resolved: {exc}" if str(exc) else "Not resolved: give the item and a label.")
        else:
            messages.success(request, "Gold label set.")
        return HttpResponseRedirect(request.path)
    items = list(
        Item.objects.filter(label_set=label_set, disagreement=True).order_by("created_at", "pk")[:50]
    )
    by_item: dict[int, list[tuple[str, str]]] = {}
    for item_id, who, label in Annotation.objects.filter(item__in=items, origin=Annotation.Origin.HUMAN).values_list(
        "item_id", "annotator__username", "label__name"
    ).order_by("annotator__username"):
        by_item.setdefault(item_id, []).append((who, label))
    context = {
        **admin_view.admin_site.each_context(request),
        "opts": LabelSet._meta,
        "title": f"Review: {label_set.name}",
        "label_set": label_set,
        "rows": [(item, by_item.get(item.pk, [])) for item in items],
        "waiting": Item.objects.filter(label_set=label_set, disagreement=True).count(),
        "labels": list(Label.objects.filter(label_set=label_set).order_by("position", "pk")),
        "multi": label_set.task == LabelSet.Task.MULTI,
    }
    return TemplateResponse(request, "admin/ai/labelset/review.html", context)


def import_page(admin_view, request: HttpRequest, pk: int):
    require(request, "import")
    label_set = _label_set(pk)
    errors, total = [], 0
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, "Choose a CSV or JSONL file.")
        elif (upload.size or 0) > MAX_IMPORT_BYTES:
            messages.error(request, f"The file is {upload.size} bytes; at most {MAX_IMPORT_BYTES} per import.")
        else:
            try:
                fmt = request.POST.get("format") or guess_format(upload.name or "")
                result = import_items(label_set, upload.read(), fmt)
            except ImportFailed as exc:
                errors, total = exc.errors, exc.total
                messages.error(request, f"Nothing was imported: {exc.total} problem(s) in the file.")
            else:
                messages.success(
                    request,
                    f"Imported {result.created} item(s) ({result.labelled} with labels); skipped {result.duplicates} duplicate(s).",
                )
                return HttpResponseRedirect(reverse("admin:ai_labelset_change", args=[pk]))
    context = {
        **admin_view.admin_site.each_context(request),
        "opts": LabelSet._meta, "title": f"Import into {label_set.name}", "label_set": label_set,
        "errors": errors, "total": total,
    }
    return TemplateResponse(request, "admin/ai/labelset/import.html", context)


@require_GET
def export_view(request: HttpRequest, pk: int) -> HttpResponse:
    require(request, "export")
    label_set = _label_set(pk)
    fmt = request.GET.get("format", "csv")
    everything = request.GET.get("all") == "1"
    try:
        body = export_labels(label_set, fmt, all_annotations=everything)
    except (EmptyExport, ValueError) as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(reverse("admin:ai_labelset_change", args=[pk]))
    name = f"{label_set.slug}-{'annotations' if everything else 'gold'}.{fmt}"
    content_type = "text/csv" if fmt == "csv" else "application/x-ndjson"
    response = HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_POST
def train_view(request: HttpRequest, pk: int) -> HttpResponse:
    from ai.training import start_run

    require(request, "train")
    label_set = _label_set(pk)
    try:
        with transaction.atomic():
            run = start_run("text_classifier", {"label_set": label_set.slug}, user=request.user, via="admin")
    except ValueError as exc:
        messages.error(request, f"Not started: {exc}")
        return HttpResponseRedirect(reverse("admin:ai_labelset_change", args=[pk]))
    messages.success(request, f"Started text_classifier run #{run.pk} on {label_set.name}.")
    return HttpResponseRedirect(reverse("admin:ai_trainingrun_change", args=[run.pk]))


@require_POST
def add_products_view(request: HttpRequest, pk: int) -> HttpResponse:
    require(request, "import")
    label_set = _label_set(pk)
    field = request.POST.get("field", "title")
    try:
        result = add_product_items(label_set, text_field=field)
    except InvalidText as exc:
        messages.error(request, f"Not added: {exc}")
    else:
        messages.success(request, f"Added {result.created_count} product text(s); {result.duplicates} were already in the set.")
    return HttpResponseRedirect(reverse("admin:ai_labelset_change", args=[pk]))
