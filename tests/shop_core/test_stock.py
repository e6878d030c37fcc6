"""The stock ledger service (shop.services.stock): the only writer of Product.stock."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.urls import reverse

from shop.forms import CheckoutForm
from shop.models import Product, StockAdjustment
from shop.services import stock
from shop.services.addresses import ADDRESS_RULES
from shop.services.product_upsert import bulk_upsert
from tests.factories import CategoryFactory, MerchantFactory, ProductFactory

SHOP = Path(__file__).resolve().parents[2] / "shop"


def test_adjust_stock_books_the_change_in_the_ledger(product):
    adjustment = stock.adjust_stock(product, -3, "damaged in transit")
    product.refresh_from_db()
    assert (product.stock, adjustment.delta, adjustment.stock_after, adjustment.reason) == (7, -3, 7, "damaged in transit")


def test_a_retry_with_the_same_reference_changes_nothing(product):
    first = stock.adjust_stock(product, 5, "purchase order 42 received", reference="po:42:line:1")
    again = stock.adjust_stock(product, 5, "purchase order 42 received", reference="po:42:line:1")
    other = stock.adjust_stock(product, 2, "purchase order 42 received", reference="po:42:line:2")
    product.refresh_from_db()
    assert again.pk == first.pk and other.pk != first.pk
    assert product.stock == 17
    assert StockAdjustment.objects.filter(product=product).count() == 2


def test_set_stock_books_the_difference_from_the_row_not_from_a_stale_copy(product):
    stale = Product.objects.get(pk=product.pk)
    stock.adjust_stock(product, -4, "sold at the fair")  # 10 -> 6 behind `stale`'s back
    entry = stock.set_stock(stale, 8, "counted")
    assert (entry.delta, entry.stock_after) == (2, 8)
    assert stock.set_stock(stale, 8, "counted again") is None
    assert Product.objects.get(pk=product.pk).stock == 8


def test_stock_never_goes_below_zero(product):
    with pytest.raises(stock.StockBelowZero):
        stock.adjust_stock(product, -11, "oops")
    with pytest.raises(stock.StockBelowZero):
        stock.set_stock(product, -1, "oops")
    assert Product.objects.get(pk=product.pk).stock == 10
    assert not StockAdjustment.objects.exists()


def _writes_stock(node: ast.AST) -> bool:
    """`.update(stock=…)`, `.bulk_update(…, ["stock", …])` or `Product(…, stock=<not 0>)` in the source."""
    if not isinstance(node, ast.Call):
        return False
    name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
    if name == "update" and any(k.arg == "stock" for k in node.keywords):
        return True
    if name == "bulk_update" and len(node.args) > 1:
        return "stock" in ast.unparse(node.args[1])
    return False


def test_only_the_stock_service_writes_stock():
    """Admin save, stock adjustments, bulk upsert and checkout once each wrote stock their own way."""
    writers = sorted(
        str(path.relative_to(SHOP.parent))
        for path in SHOP.rglob("*.py")
        if "migrations" not in path.parts and "demo" not in path.parts
        and any(_writes_stock(node) for node in ast.walk(ast.parse(path.read_text())))
    )
    assert writers == ["shop/services/stock.py"]


def test_bulk_upsert_sets_stock_through_the_ledger(db):
    merchant = MerchantFactory()
    existing = ProductFactory(merchant=merchant, sku="OLD", stock=4)
    bulk_upsert(merchant, [{"sku": "OLD", "stock": 9}, {"sku": "NEW", "title": "New", "price": 1, "stock": 3}])
    assert dict(Product.objects.values_list("sku", "stock")) == {"OLD": 9, "NEW": 3}
    assert sorted(StockAdjustment.objects.values_list("product__sku", "delta", "stock_after", "reason")) == [
        ("NEW", 3, 3, "bulk upsert: new product"), ("OLD", 5, 9, "bulk upsert: stock set"),
    ]
    assert existing.pk


def test_admin_add_books_the_opening_stock(admin_client):
    merchant, category = MerchantFactory(), CategoryFactory()
    response = admin_client.post(reverse("admin:shop_product_add"), {
        "merchant": merchant.pk, "category": category.pk, "title": "Lamp", "slug": "lamp", "description": "",
        "sku": "L-1", "price": "4.00", "currency": "GBP", "stock": "6", "initial-stock": "0", "is_active": "on",
        "image_url": "",
    })
    assert response.status_code == 302, response.content[:500]
    product = Product.objects.get(sku="L-1")
    assert product.stock == 6
    assert list(product.stock_adjustments.values_list("delta", "stock_after", "reason")) == [(6, 6, "opening stock")]


# --- one address validator -----------------------------------------------------------------------------
def _form(**data):
    values = {"email": "a@example.com", "name": "Ada", "line1": "1 Road", "city": "Leeds", "postcode": "LS1",
              "country": "UK", "shipping_method": "standard", "payment_method": "pay_on_delivery", **data}
    return CheckoutForm(values, shipping_choices=[("standard", "Standard")],
                        payment_choices=[("pay_on_delivery", "Pay on delivery")])


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"name": ""}, "name", "Full name is required."),
        ({"line1": "   "}, "line1", "Address line 1 is required."),
        ({"postcode": "P" * 21}, "postcode", "Postcode must be at most 20 characters."),
        ({"city": "c" * 101}, "city", "Town or city must be at most 100 characters."),
    ],
)
def test_checkout_form_says_what_the_address_validator_says(data, field, message):
    form = _form(**data)
    assert not form.is_valid()
    assert form.errors[field] == [message]


def test_checkout_form_hands_over_the_validated_address():
    form = _form(name="  Ada Lovelace ")
    assert form.is_valid(), form.errors
    assert form.cleaned_data["address"].name == "Ada Lovelace"
    assert {name: form.fields[name].max_length for name in ADDRESS_RULES} == {
        name: rule.max_length for name, rule in ADDRESS_RULES.items()
    }
