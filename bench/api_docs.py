"""How long the API docs page waits for its schema: built per request (before) against cached (now).

    .venv/bin/python -m bench.api_docs [--requests 20]

Requests /api/v1/docs/ (the Swagger UI page) and then /api/v1/schema/ (what the page fetches before it
can show anything) through Django's test client: first with the schema cache emptied before every
request (what every visit cost before the cache), then from the cache that the server fills as it
starts. Prints medians and p95 in milliseconds. No database writes.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.test import Client  # noqa: E402

from shop.api import schema_view  # noqa: E402


def timed(client: Client, path: str) -> float:
    start = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, (path, response.status_code)
    return elapsed


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered):7.1f} ms   p95 {p95:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    client = Client()
    page = [timed(client, "/api/v1/docs/") for _ in range(args.requests)]
    cold = []
    for _ in range(max(3, args.requests // 4)):
        schema_view.clear()
        cold.append(timed(client, "/api/v1/schema/"))
    schema_view.warm()
    warm = [timed(client, "/api/v1/schema/") for _ in range(args.requests)]
    print(f"docs page (HTML)          {summary(page)}")
    print(f"schema, built per request {summary(cold)}")
    print(f"schema, cached            {summary(warm)}")
    print(f"docs usable after (page + schema): before {statistics.median(page) + statistics.median(cold):.0f} ms, "
          f"now {statistics.median(page) + statistics.median(warm):.0f} ms")


if __name__ == "__main__":
    main()
