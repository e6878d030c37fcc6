"""Template context every storefront page needs: the top-level categories and the basket size."""
from __future__ import annotations

from django.http import HttpRequest


def shop(request: HttpRequest) -> dict:
    from .services.navigation import top_categories

    def basket_count() -> int:
        from .services.basket import get_basket_count

        return get_basket_count(request)

    # Lazy: pages that do not render the header (the API, the admin) run no query.
    return {"top_categories": top_categories, "basket_count": basket_count}
