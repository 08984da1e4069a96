"""Text any database will take (db/storable.py): the JSON fast path gives what walking every string gives."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, strategies as st

from db.storable import _walk, storable_json

# Every character class that matters: Thai, ASCII, the C0 controls (some storable, most not), lone surrogates,
# backslashes (json doubles them: a false alarm for the scan, never a miss) and quotes.
_CHARS = st.sampled_from(["ก", "a", " ", "\\", '"', "u", "0", "\t", "\n", "\r", "\x00", "\x08", "\x0b", "\x0c",
                          "\x1f", "\x7f", "\ud800", "\udfff", "\ufffd"])
_TEXT = st.lists(_CHARS, max_size=8).map("".join) | st.text(max_size=8)
_JSON = st.recursive(st.none() | st.booleans() | st.integers() | _TEXT,
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
                     max_leaves=20)


@given(_JSON)
def test_a_json_value_is_made_storable_as_by_walking_every_string(value: Any) -> None:
    out = storable_json(value)
    assert out == _walk(value)
    text = json.dumps(out, ensure_ascii=False)
    assert not any("\ud800" <= ch <= "\udfff" for ch in text)  # no lone surrogate left, in keys or values
    assert "\\u0000" not in json.dumps(out)  # nor NUL


def test_a_storable_value_comes_back_as_it_is() -> None:
    value = {"problems": [{"code": "late", "text": "ส่งหลังวันที่ 25\nแก้ไข\t\\ ตามที่พิมพ์"}], "n": [1, 2.5, None]}
    assert storable_json(value) is value


def test_a_value_json_cannot_write_is_still_walked() -> None:
    assert storable_json({"a": {1, 2}, "b": "x\x00"})["b"] == "x"
