"""The picture a product shows until it has a photo: its initials on a colour of its own.

One component for every place a product appears (grid cards, recommendation cards, the product page,
the basket): an SVG served at a URL that encodes everything it draws, so it costs no query, caches for
ever and looks the same wherever the product is shown. Hue and initials follow the product, never the
card's position on the page.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from django.utils.html import escape

from shop.url_cache import cached_reverse

INITIALS_RE = re.compile(r"^[A-Z0-9]{1,2}$")


def initials(title: str) -> str:
    """The first letters of the first two words ("Jumbo Bag Red" → "JB", "'Set of 6'" → "SO")."""
    ascii_title = unicodedata.normalize("NFKD", str(title)).encode("ascii", "ignore").decode()
    words = re.findall(r"[A-Za-z0-9]+", ascii_title)
    letters = "".join(word[0] for word in words[:2]).upper()
    return letters if INITIALS_RE.match(letters) else "A"


def hue(product_id: int) -> int:
    """A stable hue (0..359) per product, spread by golden-angle steps so neighbours differ."""
    return (int(product_id) * 137) % 360


@lru_cache(maxsize=20_000)
def _letters(title: str) -> str:
    return initials(title)


def placeholder_url(product_id: int, title: str, reverse: Callable[..., str] = cached_reverse) -> str:
    return reverse("shop:placeholder", hue=hue(product_id), letters=_letters(str(title)))


def placeholder_svg(hue_value: int, letters: str) -> str:
    light, dark, ink = (f"hsl({hue_value} 55% 93%)", f"hsl({(hue_value + 35) % 360} 50% 84%)", f"hsl({hue_value} 45% 28%)")
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 320 320" width="320" height="320">'
        f'<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="{light}"/>'
        f'<stop offset="1" stop-color="{dark}"/></linearGradient></defs>'
        '<rect width="320" height="320" fill="url(#g)"/>'
        f'<text x="160" y="160" dy=".35em" text-anchor="middle" fill="{ink}" fill-opacity=".8" '
        'font-family="system-ui,-apple-system,Segoe UI,Roboto,sans-serif" font-size="96" font-weight="800">'
        f"{escape(letters)}</text></svg>"
    )
