"""Complainants' names in what the secretariat reads: the title stays as written, each name keeps its first
letter, nothing else of it is shown."""

from __future__ import annotations

import pytest

from config.privacy import mask_name


@pytest.mark.parametrize(("name", "masked"), [
    ("นายสมชาย ใจดี", "นายส**** ใ***"),
    ("นางสาวมณี  รัตนา", "นางสาวม** ร****"),
    ("Mr. John Smith", "Mr. J*** S****"),
    ("MRS.Jane Doe", "MRS.J*** D**"),
    ("Miss Ann Lee", "Miss A** L**"),
    ("Missy Elliott", "M**** E******"),  # not the title "Miss": no letter of the name is left unmasked
    ("สมศรี", "ส****"),
    ("นาย", "นาย"),
    ("  ", ""),
])
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked
