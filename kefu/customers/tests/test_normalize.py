"""Tables of what callers and billing exports write (P2): phones and addresses in all their forms."""

from __future__ import annotations

import pytest

from kefu.customers.normalize import (
    AddressParts,
    community_name,
    normalize_part,
    normalize_phone,
    parse_address,
    phone_kind,
)

PHONES = [
    ("13800138000", "13800138000"),
    ("138 0013 8000", "13800138000"),
    ("138-0013-8000", "13800138000"),
    ("+86 138-0013-8000", "13800138000"),
    ("+8613800138000", "13800138000"),
    ("0086 13800138000", "13800138000"),
    ("86 13800138000", "13800138000"),
    ("１３８００１３８０００", "13800138000"),  # full-width digits from a Chinese IME
    ("(0538) 620-1234", "05386201234"),
    ("0538-6201234", "05386201234"),
    ("0538 6201234", "05386201234"),
    ("05386201234", "05386201234"),
    ("+86 538 6201234", "05386201234"),
    ("+86 (0538) 620 1234", "05386201234"),
    ("86-538-6201234", "05386201234"),
    ("010-62012345", "01062012345"),
    ("6201234", "05386201234"),  # local number: the company's area code is added
    ("62012345", "053862012345"),
    ("0538-6201234 转 8", "05386201234"),  # extension dropped
    ("0538-6201234分机12", "05386201234"),
    ("400-123-4567", "4001234567"),
    ("", None),
    ("abc", None),
    ("12345", None),
    ("+1 555 0100", None),
    ("23800138000", None),  # not a mobile prefix, not a landline
    ("1380013800", None),  # 10 digits
]


@pytest.mark.parametrize(("raw", "expected"), PHONES)
def test_normalize_phone(raw, expected):
    assert normalize_phone(raw, "0538") == expected


def test_local_number_without_area_code_is_refused():
    assert normalize_phone("6201234", "") is None


@pytest.mark.parametrize(
    ("number", "kind"), [("13800138000", "mobile"), ("05386201234", "landline"), ("4001234567", "other")]
)
def test_phone_kind(number, kind):
    assert phone_kind(number) == kind


ADDRESSES = [
    ("3号楼2单元501", AddressParts("", "3", "2", "501")),
    ("3-2-501", AddressParts("", "3", "2", "501")),
    ("3栋2单元501室", AddressParts("", "3", "2", "501")),
    ("3幢2单元501", AddressParts("", "3", "2", "501")),
    ("3#楼2单元501", AddressParts("", "3", "2", "501")),
    ("3号2单元501", AddressParts("", "3", "2", "501")),
    ("3号楼2门501", AddressParts("", "3", "2", "501")),
    ("3/2/501", AddressParts("", "3", "2", "501")),
    ("3－2－501", AddressParts("", "3", "2", "501")),
    ("３号楼２单元５０１", AddressParts("", "3", "2", "501")),
    ("三号楼二单元501", AddressParts("", "3", "2", "501")),
    ("十二号楼三单元1201室", AddressParts("", "12", "3", "1201")),
    ("12-3-1201室", AddressParts("", "12", "3", "1201")),
    ("A座1单元1201", AddressParts("", "A", "1", "1201")),
    ("3号楼501", AddressParts("", "3", "", "501")),
    ("幸福小区3-2-501", AddressParts("幸福小区", "3", "2", "501")),
    ("幸福小区3号楼2单元501室", AddressParts("幸福小区", "3", "2", "501")),
    ("幸福小区 3 号楼 2 单元 501", AddressParts("幸福小区", "3", "2", "501")),
    ("幸福小区3栋", AddressParts("幸福小区", "3", "", "")),
    ("幸福小区", AddressParts("幸福小区", "", "", "")),
    ("", AddressParts()),
]


@pytest.mark.parametrize(("text", "expected"), ADDRESSES)
def test_parse_address(text, expected):
    assert parse_address(text) == expected


@pytest.mark.parametrize(
    ("prefix", "community"),
    [
        ("幸福小区", "幸福小区"),
        ("泰山区岱宗大街幸福小区", "幸福小区"),
        ("山东省泰安市泰山区岱宗大街幸福小区", "幸福小区"),
        ("长城路幸福里", "幸福里"),
        ("山锦小区四期", "山锦小区四期"),
        ("泰山区山锦小区四期", "山锦小区四期"),
        ("幸福社区东区", "幸福社区东区"),
        ("高新区幸福小区", "幸福小区"),
        ("", ""),
    ],
)
def test_community_name(prefix, community):
    assert community_name(prefix) == community


@pytest.mark.parametrize(
    ("raw", "part"),
    [
        ("3号楼", "3"),
        ("02单元", "2"),
        ("501室", "501"),
        ("A座", "A"),
        ("三", "3"),
        ("十", "10"),
        ("0", "0"),
        ("", ""),
    ],
)
def test_normalize_part(raw, part):
    assert normalize_part(raw) == part
