"""Load test of the production server command: gunicorn (2 workers) on PostgreSQL and Redis, driven by locust.

    DATABASE_URL=postgres://aisle:aisle@127.0.0.1:5432/aisle_bench \\
        .venv/bin/python bench/load_bench.py --users 10,20,40 --seconds 30 --outage

Sets up a fresh database (generated shop: categories, products, purchase history for popularity, a merchant
API key), starts a private redis-server (cache and Celery broker, on --redis-port) and gunicorn on loopback,
then runs locust headless once per user count (each user at BENCH_USER_RPS task runs a second), and prints
per step the offered users, requests/s, p50/p95 and failures. With --outage it runs once more at the first
user count and stops Redis (the cache and the broker) a third of the way in: the figures then show whether
any request failed. Everything listens on 127.0.0.1 only.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
BIN = Path(PYTHON).parent
OUT = ROOT / "var" / "bench"


def seed(products: int = 300, categories: int = 12) -> dict:
    """The generated shop (run inside Django): returns what the locustfile needs."""
    import django

    django.setup()
    from datetime import timedelta

    from django.utils import timezone

    from ai.models import Event
    from shop.models import Category, Merchant, Product
    from shop.services.api_keys import create_api_key

    merchant = Merchant.objects.create(name="Bench Goods", slug="bench-goods")
    cats = [Category.objects.create(name=f"Aisle {n}", slug=f"aisle-{n}") for n in range(categories)]
    words = ["lantern", "candle", "mug", "blanket", "tin", "bag", "clock", "frame", "vase", "card"]
    items = Product.objects.bulk_create(
        Product(merchant=merchant, category=cats[n % categories], title=f"{words[n % 10].title()} no. {n}",
                slug=f"{words[n % 10]}-{n}", sku=f"B{n:05d}", price="4.50", stock=100_000, is_active=True,
                description=f"A {words[n % 10]} for the load test.")
        for n in range(products)
    )
    now = timezone.now() - timedelta(days=1)
    Event.objects.bulk_create(
        Event(event_type="purchase", visitor_id=f"crowd-{n}", product_id=items[(n * 7) % 60].pk, created_at=now)
        for n in range(3000)
    )
    _, key = create_api_key(merchant, scope="read", name="bench")
    return {
        "products": [p.get_absolute_url() for p in items],
        "product_ids": [p.pk for p in items],
        "categories": [c.get_absolute_url() for c in cats],
        "search_terms": words,
        "api_key": key,
    }


def run(command: list[str], env: dict, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, env=env, check=True, **kwargs)


def wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s")


def locust(env: dict, host: str, users: int, seconds: int, name: str) -> dict:
    prefix = OUT / name
    run([str(BIN / "locust"), "-f", "bench/locustfile.py", "--headless", "-H", host, "-u", str(users),
         "-r", str(users), "-t", f"{seconds}s", "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING"],
        env, stdout=subprocess.DEVNULL)
    with open(f"{prefix}_stats.csv") as handle:
        total = next(row for row in csv.DictReader(handle) if row["Name"] == "Aggregated")
    def number(field: str) -> float:
        return float(total[field]) if total[field] not in ("", "N/A") else 0.0  # N/A: no request finished

    return {"users": users, "requests": int(total["Request Count"]), "failures": int(total["Failure Count"]),
            "rps": number("Requests/s"), "p50_ms": number("50%"), "p95_ms": number("95%")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", default="10,20,40", help="comma-separated user counts, one step each")
    parser.add_argument("--seconds", type=int, default=30, help="length of each step")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--redis-port", type=int, default=6391)
    parser.add_argument("--outage", action="store_true", help="one more step, stopping Redis a third of the way in")
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        raise SystemExit("Set DATABASE_URL=postgres://… (a database this script may empty and fill)")
    OUT.mkdir(parents=True, exist_ok=True)
    redis = subprocess.Popen(["redis-server", "--port", str(args.redis_port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no"], stdout=subprocess.DEVNULL)
    env = {**os.environ, "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "127.0.0.1",
           "REDIS_URL": f"redis://127.0.0.1:{args.redis_port}/0",
           "CELERY_BROKER_URL": f"redis://127.0.0.1:{args.redis_port}/1", "LOG_LEVEL": "ERROR",
           "DJANGO_SETTINGS_MODULE": "config.settings", "BENCH_DATA": str(OUT / "load.json")}
    server = None
    try:
        run([PYTHON, "manage.py", "flush", "--noinput"], env, stdout=subprocess.DEVNULL) if _migrated(env) else None
        run([PYTHON, "manage.py", "migrate", "--noinput"], env, stdout=subprocess.DEVNULL)
        data = json.loads(run([PYTHON, "-c", "import json; from bench.load_bench import seed; print(json.dumps(seed()))"],
                              env, capture_output=True, text=True).stdout.strip().splitlines()[-1])
        (OUT / "load.json").write_text(json.dumps(data))
        server = subprocess.Popen([str(BIN / "gunicorn"), "config.wsgi", "-w", "2", "-k", "gthread", "--threads", "4",
                                   "-b", f"127.0.0.1:{args.port}", "--log-level", "warning"], cwd=ROOT, env=env)
        host = f"http://127.0.0.1:{args.port}"
        wait_for(host + "/healthz", timeout=300)  # two workers importing torch on a busy machine
        locust(env, host, 2, 20, "warmup")
        print(f"load average before: {Path('/proc/loadavg').read_text().strip()}")
        results = [locust(env, host, int(users), args.seconds, f"step{users}") for users in args.users.split(",")]
        if args.outage:
            users = int(args.users.split(",")[0])
            timer = subprocess.Popen(["sh", "-c", f"sleep {args.seconds // 3}; kill {redis.pid}"])
            results.append({**locust(env, host, users, args.seconds, "outage"), "outage": "Redis stopped"})
            timer.wait()
        print(f"load average after: {Path('/proc/loadavg').read_text().strip()}")
        print(f"{'users':>5} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'failures':>8}")
        for row in results:
            print(f"{row['users']:>5} {row['requests']:>8} {row['rps']:>7.1f} {row['p50_ms']:>7.0f} {row['p95_ms']:>7.0f}"
                  f" {row['failures']:>8} {row.get('outage', '')}")
        (OUT / "load_results.json").write_text(json.dumps(results, indent=1))
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        if redis.poll() is None:
            redis.terminate()


def _migrated(env: dict) -> bool:
    probe = subprocess.run([PYTHON, "manage.py", "showmigrations", "shop", "--plan"], cwd=ROOT, env=env,
                           capture_output=True, text=True)
    return "[X]" in probe.stdout


if __name__ == "__main__":
    main()
