from .api import ApiKey, IdempotencyRecord, StockAdjustment
from .basket import Basket, BasketLine
from .catalogue import Category, Merchant, Product
from .inventory import (
    InventoryDefaults,
    ProductInventory,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderReceipt,
    PurchaseOrderStatus,
    Supplier,
)
from .orders import Order, OrderLine, OrderPart, OrderStatus, OrderStatusChange

__all__ = [
    "ApiKey",
    "Basket",
    "BasketLine",
    "Category",
    "IdempotencyRecord",
    "InventoryDefaults",
    "Merchant",
    "Order",
    "OrderLine",
    "OrderPart",
    "OrderStatus",
    "OrderStatusChange",
    "Product",
    "ProductInventory",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "PurchaseOrderReceipt",
    "PurchaseOrderStatus",
    "StockAdjustment",
    "Supplier",
]
