"""`{% load ai_recs %}{% recommendations "placement" [product=... items=... limit=... rows_of="4,2"] %}`

The plug-in's public way for a shop's templates to show recommendations. It reads the shopper from
the request (user, visitor id, basket), the viewed product from `product=` or the template's `product`
variable, and the order just placed from `items=` or the template's `order` variable. It renders
ai/templates/ai/recommendations.html (override `ai/recommendations.html` in the shop's templates, or its
classes in the shop's CSS, to restyle), or nothing when the list is empty. The block carries its own minimal
stylesheet (ai/static/ai/ai.css) and the beacon script (ai/static/ai/beacon.js, which sends impressions and
clicks from the data attributes), each linked once per page. `rows_of` names the column counts of the
grid the shop shows the block in (one per breakpoint): a list that would leave a ragged last row at one
of them is cut to one row or whole rows (`ai.recs.page.whole_rows`), the lowest-ranked products first.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Any

from django import template
from django.conf import settings

from ai.conf import ai_settings
from ai.recs.page import page_context, parse_columns, whole_rows
from ai.recs.service import RecommendationError, recommend

logger = logging.getLogger(__name__)
register = template.Library()


def _product_id(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, int):
        return value
    pk = getattr(value, "pk", None)
    if pk is None:
        pk = getattr(value, "id", None)
    if pk is None:
        try:
            return int(value)
        except (TypeError, ValueError):
            return None
    return int(pk)


def _limit(value: Any) -> Any:
    """An int from the template (`limit=4` or `limit="4"`); anything else goes on to be refused."""
    if value is None or isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        return value


def _order_product_ids(order: Any) -> list[int]:
    """Product ids of an order-like object with a `lines` manager (one query, or none if prefetched)."""
    lines = getattr(order, "lines", None)
    if lines is None:
        return []
    rows = lines.all() if hasattr(lines, "all") else lines
    return [int(line.product_id) for line in rows if getattr(line, "product_id", None)]


@register.filter
def reason_for(recs: Any, product: Any) -> str:
    """`{{ recs|reason_for:item }}`: why the list holds this product ("Because you bought …"), or ""."""
    explanation = recs.reason(product.id) if recs is not None and hasattr(recs, "reason") else None
    return explanation.text if explanation is not None else ""


@register.inclusion_tag("ai/recommendations.html", takes_context=True)
def recommendations(context, placement: str, product=None, items=None, limit=None, rows_of=None) -> dict[str, Any]:
    """The block's context. Whatever fails on the way (the adapter, the database, the registry, a model), the
    page renders without the block and the error is logged; with DEBUG on, the error shows."""
    try:
        return _recommendations(context, placement, product, items, limit, rows_of)
    except Exception:
        if settings.DEBUG:
            raise
        logger.exception("{%% recommendations %r %%} failed; the page is shown without it", placement)
        return {"recs": None}


def _recommendations(context, placement: str, product, items, limit, rows_of=None) -> dict[str, Any]:
    request = context.get("request")
    empty: dict[str, Any] = {"recs": None}
    if request is None:
        return empty
    user = getattr(request, "user", None)
    user_id = user.pk if user is not None and user.is_authenticated else None
    visitor_id = getattr(request, "visitor_id", None)
    if product is None and placement.startswith("product_"):
        product = context.get("product")
    product_id = _product_id(product)
    adapter = ai_settings.adapter()
    if items is not None:
        context_items = [p for p in (_product_id(i) for i in items) if p is not None]
    elif placement == "confirmation" and context.get("order") is not None:
        context_items = _order_product_ids(context["order"])
    else:
        context_items = []
    page = page_context(request)  # one per page: no product twice across the page's blocks
    if placement == "confirmation":
        basket = []
    else:
        if page.basket is None:  # read once per page, however many blocks it has
            page.basket = sorted(adapter.basket_product_ids(request))
        basket = page.basket
    try:
        recs = recommend(
            placement=placement,
            user_id=user_id,
            visitor_id=visitor_id,
            product_id=product_id,
            basket_product_ids=basket + [p for p in context_items if p not in basket],
            limit=_limit(limit),
            exclude=page.ids(),
            request=request,
        )
    except RecommendationError:
        if settings.DEBUG:
            raise
        logger.warning("bad {%% recommendations %%} call: placement=%r product=%r", placement, product)
        return empty
    if rows_of is not None:
        shown = whole_rows(len(recs.items), parse_columns(rows_of))
        if shown < len(recs.items):
            recs = dataclasses.replace(recs, items=recs.items[:shown])
    page.add(item.id for item in recs.items)
    # The stylesheet and the beacon script once per page, however many blocks the page has.
    include_assets = bool(recs.items) and not getattr(request, "_ai_assets_included", False)
    if include_assets:
        request._ai_assets_included = True
    return {
        "recs": recs if recs.items else None,
        "include_assets": include_assets,
        "currency_symbol": ai_settings.CURRENCY_SYMBOL,
    }
