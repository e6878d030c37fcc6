"""Reading the sales format: `date,item_id,quantity` (CSV or .csv.gz; an optional `price` column)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .series import SeriesError

REQUIRED = ("date", "item_id", "quantity")


def read_sales(path: str | Path) -> pd.DataFrame:
    """The file as a frame with columns day (date), unique_id (str), quantity (float) and price if given.

    Raises SeriesError with a readable message for a missing file or column, a date or quantity that
    does not parse, or a file without rows.
    """
    path = Path(path)
    if not path.exists():
        raise SeriesError(f"No such sales file: {path}")
    try:
        raw = pd.read_csv(path, dtype={"item_id": str}, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError) as exc:
        raise SeriesError(f"{path} is not a readable CSV file: {exc}") from None
    missing = [column for column in REQUIRED if column not in raw.columns]
    if missing:
        raise SeriesError(f"{path} lacks the column(s) {', '.join(missing)} (expected date,item_id,quantity)")
    if raw.empty:
        raise SeriesError(f"{path} holds no sales")
    days = pd.to_datetime(raw["date"], errors="coerce", format="mixed")
    bad = days.isna()
    if bad.any():
        row = int(bad.idxmax())
        raise SeriesError(f"{path}, line {row + 2}: the date {raw['date'].iloc[row]!r} does not parse (use YYYY-MM-DD)")
    quantity = pd.to_numeric(raw["quantity"], errors="coerce")
    if quantity.isna().any():
        row = int(quantity.isna().idxmax())
        raise SeriesError(f"{path}, line {row + 2}: the quantity {raw['quantity'].iloc[row]!r} is not a number")
    frame = pd.DataFrame({"day": days.dt.date, "unique_id": raw["item_id"].astype(str), "quantity": quantity.astype(float)})
    if "price" in raw.columns:
        frame["price"] = pd.to_numeric(raw["price"], errors="coerce")
    return frame
