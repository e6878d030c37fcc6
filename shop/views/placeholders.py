"""GET /placeholder/<hue>/<letters>.svg: a product's picture until it has a photo (shop/placeholders.py)."""
from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from shop.placeholders import INITIALS_RE, placeholder_svg


@require_safe
def placeholder(request: HttpRequest, hue: int, letters: str) -> HttpResponse:
    if not 0 <= hue < 360 or not INITIALS_RE.match(letters):
        raise Http404("No such placeholder")
    response = HttpResponse(placeholder_svg(hue, letters), content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=31536000, immutable"  # the URL is the whole picture
    return response
