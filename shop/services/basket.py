"""The basket: one per signed-in user (`Basket.user`), or one per anonymous session (`basket_id`).

Every change validates its input before it touches the database, so bad input raises a typed
`ShopError` and stores nothing. Changes to one basket are serialised by locking its row.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal, overload

from django.db import transaction
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone

from shop.exceptions import InsufficientStock, InvalidQuantity, ProductUnavailable
from shop.models import Basket, BasketLine, Product
from shop.services import locks

SESSION_KEY = "basket_id"
MAX_QUANTITY = 999

_INTEGER = re.compile(r"[+-]?\d{1,20}")


def _track(request: HttpRequest, event_type: str, product_id: int) -> None:
    from ai import tracking

    tracking.record(request, event_type, product_id=product_id)


# --- Input validation -------------------------------------------------------------------------

def _as_int(value: Any) -> int | None:
    """An int from an int or a string of digits; None for anything else (floats, bools, junk)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value.strip())
    return None


def parse_quantity(value: Any, *, allow_zero: bool = False) -> int:
    quantity = _as_int(value)
    if quantity is None:
        raise InvalidQuantity("Please enter the quantity as a whole number.")
    minimum = 0 if allow_zero else 1
    if quantity < minimum:
        raise InvalidQuantity(f"The quantity must be at least {minimum}.")
    if quantity > MAX_QUANTITY:
        raise InvalidQuantity(f"You can order at most {MAX_QUANTITY} of one product.")
    return quantity


def parse_product_id(value: Any) -> int:
    product_id = _as_int(value)
    if product_id is None or product_id < 1:
        raise ProductUnavailable("This product does not exist.", product_id=value)
    return product_id


def _available_product(product_id: Any) -> Product:
    pid = parse_product_id(product_id)
    product = Product.objects.filter(pk=pid).first()
    if product is None:
        raise ProductUnavailable("This product does not exist.", product_id=pid)
    if not product.is_active:
        raise ProductUnavailable(f"Sorry, “{product.title}” is no longer available.", product_id=pid)
    return product


def _check_stock(product: Product, quantity: int) -> None:
    if quantity > product.stock:
        raise InsufficientStock(product, quantity, product.stock)


# --- Finding the basket -----------------------------------------------------------------------

def _session_basket_id(request: HttpRequest) -> int | None:
    session = getattr(request, "session", None)
    if session is None:
        return None
    value = _as_int(session.get(SESSION_KEY))
    return value if value and value > 0 else None


def _is_signed_in(request: HttpRequest) -> bool:
    return _user_id(request) is not None


def _user_id(request: HttpRequest) -> int | None:
    """The signed-in shopper's user id; None for a visitor."""
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


@overload
def get_basket(request: HttpRequest, create: Literal[True]) -> Basket: ...


@overload
def get_basket(request: HttpRequest, create: bool = False) -> Basket | None: ...


def get_basket(request: HttpRequest, create: bool = False) -> Basket | None:
    """The shopper's basket; with `create`, a new empty one when there is none.

    A session id that is unknown, tampered with, or names a signed-in user's basket is dropped.
    """
    user_id = _user_id(request)
    if user_id is not None:
        if create:
            return Basket.objects.get_or_create(user=request.user)[0]
        return Basket.objects.filter(user_id=user_id).first()

    basket_id = _session_basket_id(request)
    basket = Basket.objects.filter(pk=basket_id, user__isnull=True).first() if basket_id else None
    if basket is None and SESSION_KEY in getattr(request, "session", {}):
        del request.session[SESSION_KEY]
    if basket is None and create:
        basket = Basket.objects.create()
        request.session[SESSION_KEY] = basket.pk
    return basket


def get_basket_count(request: HttpRequest) -> int:
    """Units in the basket, in at most one query (none for a visitor without a basket)."""
    user_id = _user_id(request)
    if user_id is not None:
        lines = BasketLine.objects.filter(basket__user_id=user_id)
    else:
        basket_id = _session_basket_id(request)
        if basket_id is None:
            return 0
        lines = BasketLine.objects.filter(basket_id=basket_id, basket__user__isnull=True)
    return lines.aggregate(units=Sum("quantity"))["units"] or 0


def basket_lines(basket: Basket | None) -> list[BasketLine]:
    """The lines with their products, in one query."""
    if basket is None:
        return []
    return list(basket.lines.select_related("product", "product__merchant").order_by("added_at", "pk"))


def basket_product_ids(request: HttpRequest) -> set[int]:
    """Ids of the products in the shopper's basket, in at most one query."""
    user_id = _user_id(request)
    if user_id is not None:
        lines = BasketLine.objects.filter(basket__user_id=user_id)
    else:
        basket_id = _session_basket_id(request)
        if basket_id is None:
            return set()
        lines = BasketLine.objects.filter(basket_id=basket_id, basket__user__isnull=True)
    return set(lines.values_list("product_id", flat=True))


# --- Changing the basket ----------------------------------------------------------------------

def _touch(basket: Basket) -> None:
    Basket.objects.filter(pk=basket.pk).update(updated_at=timezone.now())


def _write_line(
    request: HttpRequest, product: Product, new_quantity: Callable[[int], int]
) -> tuple[BasketLine, int]:
    """Lock the basket, then set the product's line to `new_quantity(current quantity)` (which may raise).

    Returns the line and the quantity it had before."""
    with transaction.atomic():
        basket = get_basket(request, create=True)
        locks.lock_basket(basket.pk)
        line = BasketLine.objects.filter(basket=basket, product=product).first()
        before = line.quantity if line else 0
        quantity = new_quantity(before)
        if line:
            line.quantity = quantity
            line.save(update_fields=["quantity"])
        else:
            line = BasketLine.objects.create(basket=basket, product=product, quantity=quantity)
        _touch(basket)
    return line, before

def add_to_basket(request: HttpRequest, product_id: Any, quantity: Any = 1) -> BasketLine:
    """Add `quantity` units (on top of any already there), within stock and MAX_QUANTITY."""
    quantity = parse_quantity(quantity)
    product = _available_product(product_id)
    _check_stock(product, quantity)

    def on_top_of(already: int) -> int:
        total = already + quantity
        if total > MAX_QUANTITY:
            raise InvalidQuantity(
                f"You can order at most {MAX_QUANTITY} of one product (you already have {already} in your basket)."
            )
        _check_stock(product, total)
        return total

    line, _ = _write_line(request, product, on_top_of)
    _track(request, "add_to_cart", product.pk)
    return line


def set_quantity(request: HttpRequest, product_id: Any, quantity: Any) -> BasketLine | None:
    """Set the quantity of one product; 0 removes the line (and returns None)."""
    quantity = parse_quantity(quantity, allow_zero=True)
    if quantity == 0:
        remove_from_basket(request, product_id)
        return None
    product = _available_product(product_id)
    _check_stock(product, quantity)
    line, before = _write_line(request, product, lambda _before: quantity)
    if quantity > before:
        _track(request, "add_to_cart", product.pk)
    elif quantity < before:
        _track(request, "remove_from_cart", product.pk)
    return line


def remove_from_basket(request: HttpRequest, product_id: Any) -> bool:
    """Remove a product's line; True when there was one."""
    pid = parse_product_id(product_id)
    basket = get_basket(request)
    if basket is None:
        return False
    deleted, _ = BasketLine.objects.filter(basket=basket, product_id=pid).delete()
    if deleted:
        _touch(basket)
        _track(request, "remove_from_cart", pid)
    return bool(deleted)


def merge_anonymous_basket(request: HttpRequest, user) -> Basket | None:
    """Move the session's anonymous basket into `user`'s basket (call at sign-in).

    Quantities of a product in both are summed, capped at the stock and at MAX_QUANTITY; products
    that are no longer available are dropped. Returns the user's basket (None if there is none).
    """
    basket_id = _session_basket_id(request)
    if getattr(request, "session", None) is not None:
        request.session.pop(SESSION_KEY, None)
    if basket_id is None:
        return Basket.objects.filter(user=user).first()
    with transaction.atomic():
        anonymous = locks.lock_basket(basket_id)
        if anonymous is None or anonymous.user_id is not None:
            return Basket.objects.filter(user=user).first()
        user_basket, _ = Basket.objects.get_or_create(user=user)
        locks.lock_basket(user_basket.pk)
        existing = {line.product_id: line for line in user_basket.lines.all()}
        to_create, to_update = [], []
        for line in anonymous.lines.select_related("product"):
            product = line.product
            if not product.is_active or product.stock <= 0:
                continue
            current = existing.get(product.pk)
            wanted = line.quantity + (current.quantity if current else 0)
            quantity = min(wanted, product.stock, MAX_QUANTITY)
            if current is None:
                to_create.append(BasketLine(basket=user_basket, product=product, quantity=quantity))
            elif current.quantity != quantity:
                current.quantity = quantity
                to_update.append(current)
        BasketLine.objects.bulk_create(to_create)
        BasketLine.objects.bulk_update(to_update, ["quantity"])
        anonymous.delete()
        _touch(user_basket)
    return user_basket
