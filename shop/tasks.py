"""The shop's periodic Celery tasks (scheduled in config/celery.py)."""
from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="shop.tasks.release_unpaid_orders", ignore_result=True)
def release_unpaid_orders() -> int:
    """Cancel (and restock) pending orders unpaid for SHOP_UNPAID_ORDER_TTL_HOURS. Idempotent: see the service."""
    from shop.services.orders import release_unpaid_orders as release

    numbers = release()
    if numbers:
        logger.info("Released the stock of %d unpaid order(s): %s", len(numbers), ", ".join(numbers))
    return len(numbers)


@shared_task(name="shop.tasks.send_low_stock_digest", ignore_result=True)
def send_low_stock_digest() -> int:
    """The daily low-stock e-mail to the staff who opted in. Idempotent per day: see the service."""
    from shop.services.low_stock_digest import send_digests

    run, _ = send_digests()
    logger.info("Low-stock digests for %s: %d sent, %d already sent", run.day, len(run.sent), len(run.already_sent))
    return len(run.sent)
