"""A strict JSON parser: bounded size, UTF-8 only, no NaN/Infinity, no pathological nesting."""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from shop.api.exceptions import PayloadTooLarge
from shop.api.middleware import max_body_bytes

# Deeper than any body the API documents (a bulk upsert is 3 levels, an event's `extra` a few more), and far
# below the interpreter's recursion limit, so that nothing downstream (validation, rendering, jsonb) recurses
# on attacker-chosen depth.
DEFAULT_MAX_DEPTH = 32


def max_json_depth() -> int:
    return int(getattr(settings, "API_JSON_MAX_DEPTH", DEFAULT_MAX_DEPTH))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def nesting_depth(value: Any) -> int:
    """How many arrays/objects deep `value` is, walked without recursion (a scalar is 0)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def loads_strict(text: str) -> Any:
    """`json.loads` that raises ParseError (400) for malformed JSON, NaN/Infinity and nesting past the limit."""
    limit = max_json_depth()
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError as exc:
        raise ParseError(f"Malformed JSON: nested too deeply (at most {limit} levels).") from exc
    except ValueError as exc:
        raise ParseError(f"Malformed JSON: {exc}") from exc
    if nesting_depth(value) > limit:
        raise ParseError(f"Malformed JSON: nested too deeply (at most {limit} levels).")
    return value


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        limit = max_body_bytes()
        # The middleware checks Content-Length; this also bounds bodies sent without one.
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(f"The request body is too large: at most {limit} bytes.")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError(f"The request body is not valid UTF-8 (byte {exc.start}).") from exc
        return loads_strict(text)
