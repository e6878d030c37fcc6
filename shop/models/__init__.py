from .catalogue import Category, Merchant, Product
from .basket import Basket, BasketLine
from .orders import Order, OrderLine, OrderStatus, OrderStatusChange
from .api import ApiKey, IdempotencyRecord, StockAdjustment

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
