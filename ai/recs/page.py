"""One recommendation context per page: no product shown twice on a page.

Every `{% recommendations %}` block of a page (and any block of the shop's own, such as a bestseller
grid, that calls `mark_shown`) shares the request's `PageContext`: each block leaves out what the page
already shows and adds what it shows. Headless shops get the same over the API with a `page` id: the
products returned under one page id (per caller) are remembered for a few minutes in Django's cache.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache

ATTRIBUTE = "_ai_page_context"
API_PAGE_TTL_S = 600
API_PAGE_MAX = 500  # products remembered per page id


@dataclass
class PageContext:
    shown: dict[int, None] = field(default_factory=dict)  # insertion-ordered set
    # (user id, visitor id) -> (recent history, products bought): the page's blocks read the shopper once.
    shoppers: dict[tuple[int | None, str | None], tuple[Any, frozenset[int]]] = field(default_factory=dict)
    basket: list[int] | None = None  # the shopper's basket, read by the first block that needs it

    def add(self, product_ids: Iterable[int]) -> None:
        for product_id in product_ids:
            self.shown[int(product_id)] = None

    def __contains__(self, product_id: object) -> bool:
        return product_id in self.shown

    def ids(self) -> list[int]:
        return list(self.shown)


def page_context(request) -> PageContext:
    """The page's context, created on first use and kept on the request."""
    context = getattr(request, ATTRIBUTE, None)
    if context is None:
        context = PageContext()
        setattr(request, ATTRIBUTE, context)
    return context


def mark_shown(request, product_ids: Iterable[int]) -> None:
    """Products the page shows outside the recommendation blocks (e.g. a bestseller grid): the blocks
    will not repeat them. Call it from the view, before the template renders."""
    page_context(request).add(product_ids)


def whole_rows(count: int, columns: Iterable[int]) -> int:
    """How many of `count` products to show in a grid with these column counts (one per breakpoint) so
    that no breakpoint leaves a ragged last row: the largest number up to `count` that at every column
    count either fits in one row or fills whole rows (columns 4 and 2: 1, 2, 4, 8, 12…; 3 gives 2, 7 gives 4)."""
    widths = [int(c) for c in columns if int(c) > 0]
    for shown in range(max(int(count), 0), 0, -1):
        if all(shown <= c or shown % c == 0 for c in widths):
            return shown
    return 0


def parse_columns(value: Any) -> list[int]:
    """`rows_of` from a template: 4, "4" or "4,2" -> [4] or [4, 2]; raises ValueError on anything else."""
    columns = [value] if isinstance(value, int) else [int(part) for part in str(value).split(",")]
    if not columns or any(c < 1 for c in columns):
        raise ValueError(f"rows_of must be column counts of at least 1, not {value!r}")
    return columns


def _api_key(caller: str, page: str) -> str:
    return f"ai:page:{caller}:{page}"


def api_shown(caller: str, page: str) -> list[int]:
    """Products already returned to this caller under this page id."""
    return list(cache.get(_api_key(caller, page)) or [])


def api_add_shown(caller: str, page: str, product_ids: Iterable[int]) -> None:
    shown = dict.fromkeys(api_shown(caller, page))
    shown.update(dict.fromkeys(int(p) for p in product_ids))
    cache.set(_api_key(caller, page), list(shown)[-API_PAGE_MAX:], API_PAGE_TTL_S)
