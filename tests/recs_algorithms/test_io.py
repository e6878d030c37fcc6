from __future__ import annotations

import gzip

import numpy as np
import pytest

from ai.recs.io import InteractionsFileError, parse_timestamp, read_interactions


def write(path, text: str, *, gz: bool = False):
    if gz:
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("gz", [False, True])
def test_reads_csv_and_gzip_sorted_by_user_then_time(tmp_path, gz):
    name = "interactions.csv.gz" if gz else "interactions.csv"
    path = write(tmp_path / name, "user_id,item_id,timestamp\na,x,3\nb,y,1\na,y,1\na,z,2\n", gz=gz)
    data = read_interactions(path)
    assert (data.n_users, data.n_items) == (2, 3)
    assert data.user_keys == ["a", "b"] and data.item_keys == ["x", "y", "z"]
    assert [[data.item_keys[i] for i in h] for h in data.histories()] == [["y", "z", "x"], ["y"]]
    assert data.timestamps.tolist() == [1.0, 2.0, 3.0, 1.0]


def test_iso_timestamps_order_the_history_and_extra_columns_are_ignored(tmp_path):
    path = write(
        tmp_path / "i.csv",
        "item_id,user_id,timestamp,quantity\n"
        "late,u,2011-12-09T12:50:00,1\nearly,u,2010-12-01 08:26:00,6\nmid,u,2011-06-01T00:00:00Z,2\n",
    )
    data = read_interactions(path)
    assert [data.item_keys[i] for i in data.histories()[0]] == ["early", "mid", "late"]
    assert parse_timestamp("2011-06-01T00:00:00Z") == parse_timestamp("2011-06-01 00:00:00")


def test_items_file_gives_texts_in_item_index_order(tmp_path):
    interactions = write(tmp_path / "i.csv", "user_id,item_id,timestamp\nu,b,1\nu,a,2\n")
    items = write(tmp_path / "items.csv", "item_id,text\na,Red mug\nb,Blue teapot\nc,Unused\n")
    data = read_interactions(interactions, items_path=items)
    assert data.item_texts == ["Blue teapot", "Red mug"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("user_id,item_id\nu,i\n", "missing column(s) timestamp"),
        ("user,item,time\nu,i,1\n", "missing column(s) user_id, item_id, timestamp"),
        ("user_id,item_id,timestamp\n", "no interactions"),
        ("user_id,item_id,timestamp\nu,i,yesterday\n", "line 2: timestamp 'yesterday' is neither"),
        ("user_id,item_id,timestamp\nu,i,1\nu,,2\n", "line 3: empty user_id or item_id"),
        ("user_id,item_id,timestamp\nu,i\n", "line 2: expected 3 columns"),
        ("user_id,item_id,timestamp\nu,i,nan\n", "not a finite number"),
    ],
)
def test_bad_files_raise_readable_errors(tmp_path, text, message):
    path = write(tmp_path / "bad.csv", text)
    with pytest.raises(InteractionsFileError) as info:
        read_interactions(path)
    assert message in str(info.value)


def test_missing_file_and_non_gzip_gz_are_readable_errors(tmp_path):
    with pytest.raises(InteractionsFileError, match="no such file"):
        read_interactions(tmp_path / "nope.csv")
    fake = write(tmp_path / "fake.csv.gz", "user_id,item_id,timestamp\n")
    with pytest.raises(InteractionsFileError, match="cannot be read"):
        read_interactions(fake)


def test_items_file_without_any_matching_text_is_an_error(tmp_path):
    interactions = write(tmp_path / "i.csv", "user_id,item_id,timestamp\nu,b,1\n")
    items = write(tmp_path / "items.csv", "item_id,text\nzzz,Other\n")
    with pytest.raises(InteractionsFileError, match="no text for any item"):
        read_interactions(interactions, items_path=items)
    assert np.array_equal(read_interactions(interactions).items, [0])
