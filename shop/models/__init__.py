from .api import ApiKey, IdempotencyRecord, StockAdjustment
from .basket import Basket, BasketLine
from .catalogue import Category, Merchant, Product
from .orders import Order, OrderLine, OrderStatus, OrderStatusChange

__all__ = [
    "ApiKey",
    "Basket",
    "BasketLine",
    "Category",
    "IdempotencyRecord",
    "Merchant",
    "Order",
    "OrderLine",
    "OrderStatus",
    "OrderStatusChange",
    "Product",
    "StockAdjustment",
]
