"""The Content-Security-Policy holds in a real browser: no violation and no console error on any page.

Every storefront page (walked as a shopper: sign in, add to the basket, check out), the account pages,
the privacy page, the admin (every registered model's list and the ai pages) and the API docs (Swagger UI
and Redoc) load in Debian's chromium with the policy on; an init script records each
`securitypolicyviolation` event, and console errors and page errors are collected beside them.
"""
from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.contrib import admin
from django.urls import reverse

from shop.models import Order
from tests.factories import CategoryFactory, MerchantFactory, ProductFactory, StaffFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"} at ${event.sourceFile}:${event.lineNumber}`);
});
"""
# The storefront routes a shopper reaches only by POST (form actions, each answered by a redirect).
POST_ONLY = {"shop:basket_add", "shop:basket_update", "shop:basket_remove", "shop:logout"}
# Routes that are not pages: the pictures the pages load, and the beacon the pages post to (JSON API views,
# the chat's, are left out by their class).
NOT_PAGES = {"shop:placeholder", "ai:beacon"}


class PageWatch:
    """Collects CSP violations, console errors and uncaught errors of every page the browser loads."""

    def __init__(self, page) -> None:
        self.page = page
        self.problems: list[str] = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", lambda message: message.type == "error" and self.problems.append(
            f"console: {message.text} ({page.url})"))
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error} ({page.url})"))

    def check(self, what: str) -> None:
        self.page.wait_for_load_state("load")
        violations = self.page.evaluate("window.__cspViolations || []")
        self.problems += [f"CSP: {violation} ({what})" for violation in violations]

    def visit(self, path: str) -> None:
        response = self.page.goto(self.page.base_url + path)
        assert response is not None and response.status == 200, (path, response and response.status)
        assert "default-src 'self'" in response.headers["content-security-policy"], path
        self.check(path)


@pytest.fixture
def shop_data(db):
    merchant = MerchantFactory(name="Aisle Home")
    home = CategoryFactory(name="Home & Garden", slug="home-garden")
    candles = CategoryFactory(name="Candles", slug="candles", parent=home)
    products = [ProductFactory(merchant=merchant, category=candles, title=f"Star candle {n}", slug=f"star-candle-{n}",
                               price=Decimal("2.50"), stock=20) for n in range(6)]
    UserFactory(username="dora", email="dora@example.com")
    return products


@pytest.fixture
def watch(browser_page, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # ORM calls beside Playwright's event loop
    return PageWatch(browser_page)


def test_storefront_pages_keep_the_policy(watch, shop_data):
    from playwright.sync_api import expect

    page, product = watch.page, shop_data[0]
    visited = {"shop:home", "shop:category", "shop:product", "shop:search", "shop:login", "shop:signup",
               "shop:password_reset", "shop:password_reset_done", "shop:password_reset_confirm",
               "shop:password_reset_complete", "ai:privacy"}
    for path in ["/", "/c/home-garden/", "/c/home-garden/candles/", product.get_absolute_url(), "/search/?q=star",
                 "/search/?q=nothing-matches", "/account/login/", "/account/signup/", "/account/password-reset/",
                 "/account/password-reset/sent/", "/account/reset/MQ/bad-token/", "/account/reset/done/", "/ai/privacy/"]:
        watch.visit(path)

    # Signed in, through the basket and the checkout to the confirmation and the order pages.
    watch.visit("/account/login/")
    page.get_by_label("Username").fill("dora")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    watch.check("after sign-in")
    watch.visit(product.get_absolute_url())
    page.get_by_role("button", name="Add to basket").click()
    expect(page).to_have_url(re.compile(r"/basket/$"))
    watch.check("basket")
    watch.visit("/checkout/")
    page.get_by_label("Full name").fill("Dora Shopper")
    page.get_by_label("Address line 1").fill("12 Orchard Lane")
    page.get_by_label("Town or city").fill("Bristol")
    page.get_by_label("Postcode").fill("BS1 4DJ")
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_role("heading", name="Thank you for your order")).to_be_visible()
    watch.check("confirmation")
    number = Order.objects.get().number
    for path in ["/account/", f"/account/orders/{number}/", f"/orders/{number}/confirmation/", "/basket/"]:
        watch.visit(path)
    visited |= {"shop:basket", "shop:checkout", "shop:order_confirmation", "shop:account", "shop:order_detail"}

    assert watch.problems == []
    storefront = {f"{namespace}:{name}" for namespace in ("shop", "ai") for name in _route_names(namespace)}
    assert storefront - POST_ONLY - NOT_PAGES == visited


def test_admin_and_api_docs_keep_the_policy(watch, shop_data, client):
    page = watch.page
    StaffFactory(username="root")
    watch.visit("/admin/login/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    watch.check("admin after log-in")
    watch.visit("/admin/")
    for model in admin.site._registry:
        opts = model._meta
        watch.visit(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    for path in [reverse("admin:shop_product_add"), reverse("admin:shop_product_change", args=[shop_data[0].pk]),
                 reverse("admin:ai_trainingrun_train"), reverse("admin:ai_recommendation_performance")]:
        watch.visit(path)

    watch.visit("/api/v1/docs/")
    page.locator(".swagger-ui .opblock").first.wait_for()
    watch.check("Swagger UI rendered")
    watch.visit("/api/v1/redoc/")
    page.locator("redoc .api-content").first.wait_for()
    watch.check("Redoc rendered")
    assert watch.problems == []


def _route_names(namespace: str) -> set[str]:
    from django.urls import get_resolver
    from rest_framework.views import APIView

    resolver = get_resolver().namespace_dict[namespace][1]
    return {
        name for name, callback in ((pattern.name, pattern.callback) for pattern in resolver.url_patterns)
        if name and not issubclass(getattr(callback, "cls", object), APIView)
    }
