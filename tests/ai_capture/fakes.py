"""A stand-in shop adapter for the backfill tests: its order lines are whatever the test puts in LINES."""
from __future__ import annotations

from ai.adapter import BaseShopAdapter, OrderLineInfo

LINES: list[OrderLineInfo] = []


class FakeOrdersAdapter(BaseShopAdapter):
    def iter_order_lines(self, since=None, until=None):
        yield from sorted(LINES, key=lambda line: (line.placed_at, line.order_id))
