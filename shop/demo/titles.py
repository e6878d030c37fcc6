"""Readable product titles from the upper-case descriptions of the Online Retail data.

"WHITE HANGING HEART T-LIGHT HOLDER" -> "White Hanging Heart T-Light Holder",
"SET/6 RED/WHITE BEAKERS W HANDLE" -> "Set of 6 Red/White Beakers with Handle".
The rules are deliberately small: expand the few shorthand forms the data uses, keep acronyms and
units readable, title-case the rest.
"""
from __future__ import annotations

import re

# Whole-word shorthand in the data and what a shopper should read instead.
ABBREVIATIONS: dict[str, str] = {
    "W": "with",
    "ASS": "Assorted",
    "ASSTD": "Assorted",
    "COL": "Colour",
    "VINT": "Vintage",
    "DEC": "Deco",
    "P'WEIGHT": "Paperweight",
    "B'FLY": "Butterfly",
    "NECKL": "Necklace",
    "RND": "Round",
    "SML": "Small",
    "LGE": "Large",
    "N0": "No",
}
ACRONYMS = {"LED", "TV", "CD", "DVD", "VIP", "ABC", "USB", "UK", "DIY", "USA", "PVC", "XL", "XXL", "UFO", "3D", "I", "OK"}
SMALL_WORDS = {"a", "an", "and", "of", "in", "on", "the", "for", "with", "to", "or", "at", "by", "de", "du", "la", "le", "les"}
UNIT = re.compile(r"^[\d.]+(?:cm|mm|m|g|kg|ml|l|pc|pcs)?(?:x[\d.]+(?:cm|mm|m)?)*$", re.IGNORECASE)
WATTS = re.compile(r"^\d+w$", re.IGNORECASE)
SEPARATORS = re.compile(r"([-/+'\"])")
COUNTED = re.compile(r"\b(SET|S|PACK|PK|BOX)\s*/\s*(\d+)\b", re.IGNORECASE)
COUNTED_AS = {"SET": "SET", "S": "SET", "PACK": "PACK", "PK": "PACK", "BOX": "BOX"}
GLUED_SET = re.compile(r"\b(SET|OF)(\d+)\b", re.IGNORECASE)


def _word(segment: str, *, first: bool, after_apostrophe: bool) -> str:
    if not segment:
        return segment
    upper = segment.upper()
    if upper in ACRONYMS or (len(upper) == 2 and upper[0] == "A" and upper[1].isdigit()):  # A4, A5 paper sizes
        return upper
    if re.fullmatch(r"(?:[A-Z]\.){1,}[A-Z]?\.?", upper):  # M.O.P, D.O.F.
        return upper
    if UNIT.match(segment):
        return segment.lower()
    if WATTS.match(segment):
        return upper
    lower = segment.lower()
    if after_apostrophe:
        return lower  # Poppy's, 50's, Can't
    if not first and lower in SMALL_WORDS:
        return lower
    if len(segment) == 1 and segment.isalpha():
        return upper  # initials such as the "K" of a letter tile
    return segment[0].upper() + segment[1:].lower()


def _token(token: str, *, first: bool) -> str:
    expanded = ABBREVIATIONS.get(token.upper())
    if expanded is not None:
        return expanded if not first else expanded[0].upper() + expanded[1:]
    if token.upper().startswith("W/") and len(token) > 2:  # "W/SUCKER" -> "with Sucker"
        return "with " + _token(token[2:], first=False)
    parts = SEPARATORS.split(token)
    out: list[str] = []
    for i, part in enumerate(parts):
        if i % 2:  # a separator
            out.append(part)
            continue
        after_apostrophe = i > 0 and parts[i - 1] == "'" and len(part) <= 2
        out.append(_word(part, first=first and i == 0, after_apostrophe=after_apostrophe))
    return "".join(out)


def clean_title(description: str) -> str:
    """A shop title for one upper-case stock description."""
    text = " ".join(description.replace("\u00a0", " ").split())
    text = text.strip(" *.,-")
    text = re.sub(r"\s*,\s*", ", ", text).strip(" ,")
    text = COUNTED.sub(lambda m: f"{COUNTED_AS[m.group(1).upper()]} OF {m.group(2)}", text)
    text = GLUED_SET.sub(lambda m: f"{m.group(1)} {m.group(2)}", text)
    words = [_token(token, first=i == 0) for i, token in enumerate(text.split(" ")) if token]
    title = " ".join(words)
    return title[:1].upper() + title[1:]
