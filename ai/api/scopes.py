"""What a server-to-server API client may do with ai's API. The host's adapter maps its own credentials to
these (`BaseShopAdapter.api_client(request).scopes`); Aisle's mapping is in shop/ai_adapter.py."""

RECOMMENDATIONS = "recommendations"  # non-personal recommendation lists
EVENTS = "events"  # send events about its own products and the shoppers it knows
MODELS_READ = "models:read"  # see training runs and model versions (without worker or storage details)

# Granted only by staff:
RECOMMENDATIONS_PERSONAL = "recommendations:personal"  # "trusted storefront backend": any shopper's personal lists
MODELS_CONTROL = "models:control"  # start/cancel runs, promote/roll back shop-wide models
EVENTS_SHOP_WIDE = "events:shop_wide"  # its events count in shop-wide popularity

ALL = frozenset({RECOMMENDATIONS, EVENTS, MODELS_READ, RECOMMENDATIONS_PERSONAL, MODELS_CONTROL, EVENTS_SHOP_WIDE})
