"""Server time of one support-chat answer: intent (the live `chat_intent` model), entities, then the
template filled from the shop's data or the product retrieval, on the database the settings name (the
demo's after `make demo`, which seeds the intents and trains `chat_intent`).

    .venv/bin/python -m bench.chat_answer [--repeat 50] [--json]

Each message is answered `--repeat` times by `ai.chat.dialogue.respond` for the demo customer (the
signed-in owner of real orders) and for a guest; nothing is written (a proposal to cancel is only a
proposal). Prints p50/p95 milliseconds per message and over all, and the load average.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402

from ai import registry  # noqa: E402
from ai.chat.dialogue import Turn, respond  # noqa: E402
from ai.conf import ai_settings  # noqa: E402

MESSAGES = [
    ("customer", "where is my order?"),
    ("customer", "I want to cancel my order"),
    ("guest", "do you have a lantern under £10?"),
    ("guest", "what is your returns policy"),
    ("guest", "how long does delivery take"),
    ("guest", "can I pay with a credit card"),
]


def demo_customer_id() -> int | None:
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(is_staff=False).order_by("pk").values_list("pk", flat=True)
    adapter = ai_settings.adapter()
    return next((pk for pk in users[:200] if adapter.latest_orders(pk, limit=1)), None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if registry.live_loaded("chat_intent") is None:
        print("No live chat_intent model: run `manage.py ai_seed_intents --train` (make demo does).", file=sys.stderr)
        return 1
    customer = demo_customer_id()
    results, everything = [], []
    for who, text in MESSAGES:
        user_id = customer if who == "customer" else None
        respond(Turn(text=text, user_id=user_id, state={}))  # warm-up (caches, the encoder)
        timings = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            outcome = respond(Turn(text=text, user_id=user_id, state={}))
            timings.append((time.perf_counter() - started) * 1000)
        everything += timings
        results.append({"message": text, "who": who, "intent": outcome.understanding.intent,
                        "p50_ms": round(float(np.percentile(timings, 50)), 2),
                        "p95_ms": round(float(np.percentile(timings, 95)), 2)})
    summary = {"message": "all", "p50_ms": round(float(np.percentile(everything, 50)), 2),
               "p95_ms": round(float(np.percentile(everything, 95)), 2), "load": [round(x, 2) for x in os.getloadavg()]}
    for row in [*results, summary]:
        print(json.dumps(row) if args.json else "  ".join(f"{k}={v}" for k, v in row.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
