"""A strict JSON parser: bounded size, UTF-8 only, no NaN/Infinity, no pathological nesting."""
from __future__ import annotations

import json
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from shop.api.exceptions import PayloadTooLarge
from shop.api.middleware import max_body_bytes


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


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
        try:
            return json.loads(text, parse_constant=_reject_constant)
        except RecursionError as exc:
            raise ParseError("Malformed JSON: nested too deeply.") from exc
        except ValueError as exc:
            raise ParseError(f"Malformed JSON: {exc}") from exc
