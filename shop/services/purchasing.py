"""Purchase orders: draft -> sent -> partly received -> received; a draft may be cancelled.

Receiving adds the units to stock through the stock ledger (`shop.services.stock.adjust_stock`) under
the purchase order's row lock, each line's adjustment carrying a reference made of the receipt key: a
retried request with the same key finds its receipt and changes nothing; a second, different receipt
can never take a line beyond what was ordered.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from shop.exceptions import ShopError
from shop.models import (
    ApiKey,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderReceipt,
    PurchaseOrderStatus,
    Supplier,
)
from shop.services import locks
from shop.services.stock import adjust_stock

Status = PurchaseOrderStatus
RECEIVABLE = (Status.SENT, Status.PARTLY_RECEIVED)


class PurchaseOrderError(ShopError):
    code = "purchase_order_error"
    http_status = 409


class ForbiddenPurchaseOrderTransition(PurchaseOrderError):
    code = "forbidden_transition"

    def __init__(self, order: PurchaseOrder, action: str) -> None:
        super().__init__(f"{order.number} is {order.get_status_display().lower()}: it cannot be {action}.")


class OverReceived(PurchaseOrderError):
    code = "over_received"

    def __init__(self, line: PurchaseOrderLine, quantity: int) -> None:
        super().__init__(
            f"{line.product.sku}: {quantity} received but only {line.outstanding} of {line.quantity} are outstanding.",
            fields={"lines": [f"Line {line.pk}: at most {line.outstanding}."]},
        )


class InvalidReceipt(PurchaseOrderError):
    code = "invalid_receipt"
    http_status = 400


def create_purchase_order(
    supplier: Supplier, quantities: Mapping[int, int], *, user=None, note: str = ""
) -> PurchaseOrder:
    """A draft purchase order from `supplier` for {product id: units}; products must be the supplier's merchant's."""
    wanted, products = _check_lines(supplier, quantities)
    with transaction.atomic():
        order = PurchaseOrder.objects.create(merchant_id=supplier.merchant_id, supplier=supplier, created_by=user if getattr(user, "is_authenticated", False) else None, note=note[:500])
        _write_lines(order, wanted, products)
    return order


def _check_lines(supplier: Supplier, quantities: Mapping[int, int]) -> tuple[dict[int, int], dict[int, Product]]:
    """{product id: units} checked: at least one line, units of at least 1, products of the supplier's merchant."""
    wanted = {int(pid): int(qty) for pid, qty in quantities.items()}
    if not wanted:
        raise InvalidReceipt("A purchase order needs at least one line.")
    if any(qty < 1 for qty in wanted.values()):
        raise InvalidReceipt("Every line needs a quantity of at least 1.", fields={"lines": ["Quantities must be at least 1."]})
    products = Product.objects.filter(pk__in=wanted, merchant_id=supplier.merchant_id).select_related("inventory").in_bulk()
    missing = sorted(set(wanted) - set(products))
    if missing:
        raise InvalidReceipt(f"Unknown products for {supplier.merchant}: {', '.join(map(str, missing))}", fields={"lines": ["Unknown product."]})
    return wanted, products


def _write_lines(order: PurchaseOrder, wanted: dict[int, int], products: dict[int, Product]) -> None:
    PurchaseOrderLine.objects.bulk_create(
        PurchaseOrderLine(order=order, product_id=pid, quantity=qty, unit_cost=_unit_cost(products[pid]))
        for pid, qty in sorted(wanted.items())
    )


def update_draft(
    order: PurchaseOrder, *, supplier: Supplier | None = None, quantities: Mapping[int, int] | None = None,
    note: str | None = None,
) -> PurchaseOrder:
    """Change a draft: its supplier (the same merchant's), its note, or all its lines at once ({product id: units})."""
    with transaction.atomic():
        locked = locks.lock_purchase_order(order.pk)
        if locked.status != Status.DRAFT:
            raise ForbiddenPurchaseOrderTransition(locked, "changed (only a draft can)")
        if supplier is not None:
            if supplier.merchant_id != locked.merchant_id:
                raise InvalidReceipt(f"Unknown supplier for {locked.merchant}: {supplier.pk}", fields={"supplier": ["Unknown supplier."]})
            locked.supplier = supplier
        if quantities is not None:
            wanted, products = _check_lines(locked.supplier, quantities)
            locked.lines.all().delete()
            _write_lines(locked, wanted, products)
        if note is not None:
            locked.note = note[:500]
        locked.save(update_fields=["supplier", "note", "updated_at"])
    return locked


def _unit_cost(product: Product):
    inventory = getattr(product, "inventory", None)
    return inventory.unit_cost if inventory is not None and inventory.unit_cost is not None else None


def orders_from_suggestions(merchant_products: Iterable[tuple[Supplier, int, int]], *, user=None) -> list[PurchaseOrder]:
    """One draft purchase order per supplier from (supplier, product id, units) rows."""
    by_supplier: dict[int, tuple[Supplier, dict[int, int]]] = {}
    for supplier, product_id, quantity in merchant_products:
        if quantity > 0:
            by_supplier.setdefault(supplier.pk, (supplier, {}))[1][product_id] = quantity
    with transaction.atomic():
        return [create_purchase_order(supplier, lines, user=user, note="from the reorder list") for supplier, lines in by_supplier.values()]


def send(order: PurchaseOrder) -> PurchaseOrder:
    with transaction.atomic():
        locked = locks.lock_purchase_order(order.pk)
        if locked.status != Status.DRAFT:
            raise ForbiddenPurchaseOrderTransition(locked, "sent")
        locked.status = Status.SENT
        locked.sent_at = timezone.now()
        locked.save(update_fields=["status", "sent_at", "updated_at"])
    return locked


def cancel(order: PurchaseOrder) -> PurchaseOrder:
    """Cancel a draft: nothing was ordered, so nothing else changes."""
    with transaction.atomic():
        locked = locks.lock_purchase_order(order.pk)
        if locked.status != Status.DRAFT:
            raise ForbiddenPurchaseOrderTransition(locked, "cancelled (only a draft can)")
        locked.status = Status.CANCELLED
        locked.save(update_fields=["status", "updated_at"])
    return locked


def receive(
    order: PurchaseOrder, quantities: Mapping[int, int] | None, *, key: str, user=None, api_key: ApiKey | None = None
) -> PurchaseOrderReceipt:
    """Book a delivery: {line id: units} (None: everything outstanding). Idempotent on `key`."""
    key = (key or "").strip()
    if not key or len(key) > 100:
        raise InvalidReceipt("A receipt needs a key of 1 to 100 characters (retries send the same key).")
    with transaction.atomic():
        locked = locks.lock_purchase_order(order.pk)
        existing = PurchaseOrderReceipt.objects.filter(order=locked, key=key).first()
        if existing is not None:
            return existing
        if locked.status not in RECEIVABLE:
            raise ForbiddenPurchaseOrderTransition(locked, "received")
        lines = {line.pk: line for line in locked.lines.select_related("product")}
        booked = _check_quantities(lines, quantities)
        actor = {"user": user if getattr(user, "is_authenticated", False) else None, "api_key": api_key}
        try:
            receipt = PurchaseOrderReceipt.objects.create(order=locked, key=key, quantities={str(k): v for k, v in booked.items()}, **actor)
        except IntegrityError:  # the same key committed by a request that did not hold the lock (cannot happen under it)
            raise InvalidReceipt(f"The receipt key {key!r} is already used.") from None
        for line_id, units in sorted(booked.items(), key=lambda item: lines[item[0]].product_id):
            PurchaseOrderLine.objects.filter(pk=line_id).update(received_quantity=F("received_quantity") + units)
            adjust_stock(
                lines[line_id].product_id, units, f"received on {locked.number}",
                reference=f"po:{locked.pk}:receipt:{receipt.pk}:line:{line_id}", **actor,
            )
        outstanding = sum(line.outstanding - booked.get(line.pk, 0) for line in lines.values())
        locked.status = Status.RECEIVED if outstanding == 0 else Status.PARTLY_RECEIVED
        locked.received_at = timezone.now() if outstanding == 0 else None
        locked.save(update_fields=["status", "received_at", "updated_at"])
    return receipt


def _check_quantities(lines: dict[int, PurchaseOrderLine], quantities: Mapping[int, int] | None) -> dict[int, int]:
    if quantities is None:
        return {pk: line.outstanding for pk, line in lines.items() if line.outstanding > 0}
    booked: dict[int, int] = {}
    for raw_id, raw_units in quantities.items():
        try:
            line_id, units = int(raw_id), int(raw_units)
        except (TypeError, ValueError):
            raise InvalidReceipt(f"Line {raw_id!r}: {raw_units!r} is not a whole number of units.") from None
        if line_id not in lines:
            raise InvalidReceipt(f"Line {line_id} is not on this purchase order.", fields={"lines": [f"Unknown line {line_id}."]})
        if units < 0:
            raise InvalidReceipt(f"Line {line_id}: a receipt cannot be negative.")
        if units > lines[line_id].outstanding:
            raise OverReceived(lines[line_id], units)
        if units:
            booked[line_id] = units
    if not booked:
        raise InvalidReceipt("The receipt books no units.")
    return booked


def on_order(product_ids: Iterable[int]) -> dict[int, int]:
    """Units ordered and not yet received per product (drafts count: they are about to be sent)."""
    from django.db.models import Sum

    rows = (
        PurchaseOrderLine.objects.filter(product_id__in=list(product_ids), order__status__in=[Status.DRAFT, *RECEIVABLE])
        .values("product_id")
        .annotate(units=Sum(F("quantity") - F("received_quantity")))
    )
    return {row["product_id"]: int(row["units"] or 0) for row in rows}

