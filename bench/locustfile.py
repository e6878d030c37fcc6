"""Load scenario: browsing shoppers and merchant API clients (run by bench/load_bench.py, or by hand:

    BENCH_DATA=var/bench/load.json locust -f bench/locustfile.py --headless -H http://127.0.0.1:8100 -u 20 -t 60s

BENCH_DATA is the JSON the driver writes: product URLs, category URLs, search terms and a merchant API key.
Each simulated user keeps its own cookies (session, basket, visitor id). Every user runs at a constant
throughput (BENCH_USER_RPS task runs a second, default 0.5), so the offered rate is bounded by the user count.
"""
from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path

from locust import HttpUser, constant_throughput, task

DATA = json.loads(Path(os.environ.get("BENCH_DATA", "var/bench/load.json")).read_text())
USER_RPS = float(os.environ.get("BENCH_USER_RPS", "0.5"))
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
RADIO = re.compile(r'name="(shipping_method|payment_method)" value="([^"]+)"')


class Shopper(HttpUser):
    weight = 4
    wait_time = constant_throughput(USER_RPS)

    @task(4)
    def home(self) -> None:
        self.client.get("/", name="home")

    @task(3)
    def category(self) -> None:
        self.client.get(random.choice(DATA["categories"]), name="category")

    @task(5)
    def product(self) -> None:
        with self.client.get(random.choice(DATA["products"]), name="product", catch_response=True) as response:
            if response.ok and "data-rec-list" not in response.text:
                response.failure("no recommendations on the product page")

    @task(2)
    def search(self) -> None:
        self.client.get("/search/", params={"q": random.choice(DATA["search_terms"])}, name="search")

    @task(2)
    def add_to_basket(self) -> None:
        page = self.client.get(random.choice(DATA["products"]), name="product")
        token = CSRF.search(page.text)
        product_id = re.search(r'name="product_id" value="(\d+)"', page.text)
        if token and product_id:
            self.client.post("/basket/add/", {"csrfmiddlewaretoken": token[1], "product_id": product_id[1],
                                              "quantity": "1"}, name="basket add")

    @task(1)
    def checkout(self) -> None:
        page = self.client.get("/checkout/", name="checkout form")
        token = CSRF.search(page.text)
        if not token or "Place order" not in page.text:
            return  # an empty basket: nothing to check out
        choices = dict(RADIO.findall(page.text))
        self.client.post("/checkout/", {
            "csrfmiddlewaretoken": token[1], "email": "load@example.com", "name": "Load Tester",
            "line1": "1 Bench Street", "line2": "", "city": "York", "postcode": "YO1 7HH", "country": "United Kingdom",
            **choices,
        }, name="checkout place")


class MerchantApi(HttpUser):
    weight = 1
    wait_time = constant_throughput(USER_RPS)

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Bearer {DATA['api_key']}"

    @task(3)
    def list_products(self) -> None:
        self.client.get("/api/v1/products/", params={"page_size": 20}, name="api products")

    @task(2)
    def product_detail(self) -> None:
        self.client.get(f"/api/v1/products/{random.choice(DATA['product_ids'])}/", name="api product")

    @task(1)
    def orders(self) -> None:
        self.client.get("/api/v1/orders/", name="api orders")
