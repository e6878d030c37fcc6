from .api import ApiKey, IdempotencyRecord, StockAdjustment
from .basket import Basket, BasketLine
from .catalogue import Category, Merchant, Product
from .orders import Order, OrderLine, OrderPart, OrderStatus, OrderStatusChange

__all__ = [
    "ApiKey",
    "Basket",
    "BasketLine",
    "Category",
    "IdempotencyRecord",
    "Merchant",
    "Order",
    "OrderLine",
    "OrderPart",
    "OrderStatus",
    "OrderStatusChange",
    "Product",
    "StockAdjustment",
]
