"""Helpers shared by the storefront views."""
from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

PAGE_SIZE = 24


def paginate(request: HttpRequest, queryset: QuerySet, per_page: int = PAGE_SIZE) -> tuple[Page, str]:
    """The requested page and, when the `page` parameter made no sense, a note saying which page is shown."""
    paginator = Paginator(queryset, per_page)
    raw = request.GET.get("page", "1")
    page = paginator.get_page(raw)
    note = ""
    if raw != str(page.number):
        note = f"There is no page “{raw[:20]}”, so this is page {page.number} of {paginator.num_pages}."
    return page, note


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The `next` parameter when it points back into this site, else `fallback`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


def first_error(form) -> str:
    """The first error message of a bound, invalid form, for a flash message."""
    for errors in form.errors.values():
        if errors:
            return errors[0]
    return "Please check your input."


def url_text(value: str) -> str:
    """A text value taken from the URL path, refused (404) when it holds a NUL, which PostgreSQL cannot store or compare."""
    if "\x00" in value:
        raise Http404("No such page")
    return value
