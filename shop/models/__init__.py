from .api import ApiKey, IdempotencyRecord, StockAdjustment
from .basket import Basket, BasketLine
from .catalogue import Category, Merchant, Product
from .inventory import (
    InventoryDefaults,
    LowStockDigestSent,
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
    "LowStockDigestSent",
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
