"""The shopper's whole path in a real browser (Playwright driving Debian's chromium)."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest

from shop.models import Order, Product
from tests.factories import CategoryFactory, MerchantFactory, ProductFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT_DIR = "/tmp"


def test_home_to_order_history(browser_page, transactional_db, monkeypatch):
    from playwright.sync_api import expect

    # Playwright's sync API keeps an event loop in this thread; the ORM calls below are still plain sync code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    page = browser_page
    UserFactory(username="dora", email="dora@example.com")
    merchant = MerchantFactory(name="Aisle Home")
    home_cat = CategoryFactory(name="Home & Garden", slug="home-garden")
    candles = CategoryFactory(name="Candles", slug="candles", parent=home_cat)
    CategoryFactory(name="Kitchen", slug="kitchen")
    CategoryFactory(name="Party", slug="party")
    titles = ["White Hanging Heart T-Light Holder", "Glass Star Frosted T-Light Holder", "Set 7 Babushka Nesting Boxes",
              "Red Woolly Hottie White Heart", "Knitted Union Flag Hot Water Bottle", "Assorted Colour Bird Ornament"]
    products = [
        ProductFactory(merchant=merchant, category=candles, title=t, slug=re.sub(r"[^a-z0-9]+", "-", t.lower()).strip("-"),
                       price=Decimal(p), stock=s, description="Hand-finished, boxed and ready to give.")
        for t, p, s in zip(titles, ["2.55", "3.39", "7.65", "3.75", "3.39", "1.69"], [50, 3, 20, 0, 12, 40], strict=False)
    ]
    for rank, product in enumerate(products):
        Product.objects.filter(pk=product.pk).update(units_sold=100 - rank * 10)
    target = products[0]

    # Home
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(page.base_url + "/")
    expect(page.get_by_role("heading", name="Bestsellers")).to_be_visible()
    expect(page.locator("[data-basket-count]")).to_have_text("0")
    page.screenshot(path=f"{SCREENSHOT_DIR}/storefront-home.png", full_page=True)

    # Category (through the category navigation) → sub-category → product
    page.get_by_role("navigation", name="Categories").get_by_role("link", name="Home & Garden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Home & Garden")
    page.get_by_role("link", name="Candles").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Candles")
    page.screenshot(path=f"{SCREENSHOT_DIR}/storefront-category.png", full_page=True)
    page.get_by_role("link", name=target.title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(target.title)
    page.screenshot(path=f"{SCREENSHOT_DIR}/storefront-product.png", full_page=True)

    # Add to basket
    page.get_by_label("Quantity").fill("3")
    page.get_by_role("button", name="Add to basket").click()
    expect(page).to_have_url(re.compile(r"/basket/$"))
    expect(page.get_by_role("status").filter(has_text="Added 3")).to_be_visible()
    expect(page.locator("[data-basket-count]")).to_have_text("3")
    expect(page.get_by_test_id("basket-subtotal")).to_have_text("£7.65")
    page.screenshot(path=f"{SCREENSHOT_DIR}/storefront-basket.png", full_page=True)

    # Checkout: sign in on the way; the anonymous basket follows into the account.
    page.get_by_role("link", name="Go to checkout").click()
    page.get_by_role("link", name="Sign in", exact=True).last.click()
    page.get_by_label("Username").fill("dora")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/checkout/$"))
    expect(page.get_by_label("E-mail")).to_have_value("dora@example.com")
    page.get_by_label("Full name").fill("Dora Shopper")
    page.get_by_label("Address line 1").fill("12 Orchard Lane")
    page.get_by_label("Town or city").fill("Bristol")
    page.get_by_label("Postcode").fill("BS1 4DJ")
    page.get_by_label(re.compile("Express delivery")).check()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=f"{SCREENSHOT_DIR}/storefront-checkout.png", full_page=True)
    page.get_by_role("button", name="Place order").click()

    # Confirmation
    expect(page.get_by_role("heading", name="Thank you for your order")).to_be_visible()
    number = page.get_by_test_id("order-number").inner_text()
    order = Order.objects.get(number=number)
    assert order.user.username == "dora" and order.total == Decimal("7.65") + Decimal("8.95")
    assert Product.objects.get(pk=target.pk).stock == 47
    expect(page.locator("[data-basket-count]")).to_have_text("0")
    page.screenshot(path=f"{SCREENSHOT_DIR}/storefront-confirmation.png", full_page=True)

    # Order history → order detail
    page.get_by_role("link", name="See your orders").click()
    expect(page.get_by_role("heading", name="Order history")).to_be_visible()
    page.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Order {number}")
    expect(page.get_by_role("cell", name=target.title)).to_be_visible()

    # A narrow phone screen still shows the search and the basket.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(page.base_url + target.get_absolute_url())
    expect(page.get_by_role("search")).to_be_visible()
    expect(page.get_by_test_id("basket-link")).to_be_visible()
    page.screenshot(path=f"{SCREENSHOT_DIR}/storefront-product-mobile.png", full_page=True)
