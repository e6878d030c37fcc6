"""Entities in a shopper's message: order numbers, e-mail addresses, quantities, prices and product
names matched against the catalogue. Pure functions over the text plus a catalogue vocabulary."""
from __future__ import annotations

import re
import threading
import time
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation

from ai.conf import ai_settings

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_AMOUNT = r"(?:£|\$|€|gbp\s*|usd\s*|eur\s*)?(\d+(?:[.,]\d{1,2})?)\s*(?:£|pounds?|quid|gbp|dollars?|euros?)?"
_CURRENCY_HINT = re.compile(r"£|\$|€|\bgbp\b|\busd\b|\beur\b|\bpounds?\b|\bquid\b|\bdollars?\b|\beuros?\b", re.I)
PRICE_MAX_RE = re.compile(r"\b(?:under|below|less than|cheaper than|up to|max(?:imum)?|no more than|at most)\s+" + _AMOUNT, re.I)
PRICE_MIN_RE = re.compile(r"\b(?:over|above|(?<!no )(?<!not )more than|at least|min(?:imum)?|from)\s+" + _AMOUNT, re.I)
PRICE_RANGE_RE = re.compile(r"\bbetween\s+" + _AMOUNT + r"\s+(?:and|-|to)\s+" + _AMOUNT, re.I)
QUANTITY_RE = re.compile(r"\b(\d{1,4})\s*(?:x\b|pcs\b|pieces?\b|items?\b|units?\b|of\b|packs?\b)", re.I)
WORD_RE = re.compile(r"[a-z][a-z'-]{2,}")
STOPWORDS = frozenset(
    ["the", "and", "for", "you", "your", "have", "has", "had", "with", "this", "that", "what", "where", "when", "which", "who", "how", "can", "could", "would", "should", "will", "want", "wants", "need", "needs", "any", "are", "was", "were", "been", "does", "did", "not", "but", "from", "into", "about", "under", "below", "over", "above", "less", "more", "than", "some", "please", "thanks", "thank", "hello", "help", "order", "orders", "item", "items", "product", "products", "buy", "bought", "get", "got", "find", "looking", "look", "show", "tell", "there", "here", "they", "them", "their", "our", "out", "off", "cheap", "cheaper", "price", "prices", "cost", "costs", "much", "many", "also", "just", "like", "really", "very", "its", "it's", "i'm", "i've", "don't"]
)


@dataclass
class Entities:
    order_numbers: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    quantities: list[int] = field(default_factory=list)
    max_price: Decimal | None = None
    min_price: Decimal | None = None
    # Words of the message that name things the catalogue sells, and the best-matching product titles.
    product_terms: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        data = asdict(self)
        for key in ("max_price", "min_price"):
            data[key] = str(data[key]) if data[key] is not None else None
        return {k: v for k, v in data.items() if v not in (None, [], "")}

    @property
    def has_price_filter(self) -> bool:
        return self.max_price is not None or self.min_price is not None


def _amount(raw: str) -> Decimal | None:
    try:
        return Decimal(raw.replace(",", "."))
    except InvalidOperation:
        return None


def extract_prices(text: str) -> tuple[Decimal | None, Decimal | None]:
    """(min, max) price from phrases such as "under £10", "over 5 pounds", "between £5 and £20"."""
    low = high = None
    if match := PRICE_RANGE_RE.search(text):
        low, high = _amount(match.group(1)), _amount(match.group(2))
        if low is not None and high is not None and low > high:
            low, high = high, low
        return low, high
    if match := PRICE_MAX_RE.search(text):
        high = _amount(match.group(1))
    # "from 3" alone is too vague ("from 3 days ago"): only with a currency.
    if (match := PRICE_MIN_RE.search(text)) and (
        not match.group(0).lower().startswith("from") or _CURRENCY_HINT.search(match.group(0))
    ):
        low = _amount(match.group(1))
    return low, high


class CatalogueVocabulary:
    """The words that occur in active product titles, rebuilt at most every `ttl` seconds per process."""

    def __init__(self, ttl: float = 300.0) -> None:
        self.ttl = ttl
        self._words: frozenset[str] = frozenset()
        self._built_at = float("-inf")
        self._lock = threading.Lock()

    def words(self) -> frozenset[str]:
        if time.monotonic() - self._built_at < self.ttl:
            return self._words
        with self._lock:
            if time.monotonic() - self._built_at >= self.ttl:
                words: set[str] = set()
                for product in ai_settings.adapter().iter_products(active_only=True):
                    words.update(WORD_RE.findall(product.title.lower()))
                self._words = frozenset(words - STOPWORDS)
                self._built_at = time.monotonic()
        return self._words

    def clear(self) -> None:
        with self._lock:
            self._built_at = float("-inf")


vocabulary = CatalogueVocabulary()


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("es") and word[:-2].endswith(("s", "x", "ch", "sh")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def product_terms(text: str, words: frozenset[str]) -> list[str]:
    """Words of `text` (or their singular) that appear in product titles, in message order, once each."""
    found: list[str] = []
    for word in WORD_RE.findall(text.lower()):
        if word in STOPWORDS:
            continue
        for candidate in (word, _singular(word)):
            if candidate in words and candidate not in found:
                found.append(candidate)
                break
    return found


def extract(text: str, *, order_number_pattern: str | None = None, catalogue_words: frozenset[str] | None = None) -> Entities:
    """Every entity in `text`. Order numbers follow the shop's pattern (the adapter's by default)."""
    pattern = order_number_pattern or ai_settings.adapter().order_number_pattern
    emails = list(dict.fromkeys(EMAIL_RE.findall(text)))
    without_emails = EMAIL_RE.sub(" ", text)
    numbers = [m.upper() for m in re.findall(pattern, without_emails, flags=re.I)]
    low, high = extract_prices(without_emails)
    quantities = [int(q) for q in QUANTITY_RE.findall(without_emails) if 0 < int(q) <= 1000]
    words = catalogue_words if catalogue_words is not None else vocabulary.words()
    return Entities(
        order_numbers=list(dict.fromkeys(numbers)),
        emails=[e.lower() for e in emails],
        quantities=quantities,
        max_price=high,
        min_price=low,
        product_terms=product_terms(without_emails, words),
    )
