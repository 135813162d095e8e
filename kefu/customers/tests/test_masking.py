"""Masking of personal data (S2): 张**, 138****5678, the room hidden."""

from __future__ import annotations

import pytest

from kefu.customers.masking import mask_address, mask_name, mask_phone, mask_room


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三丰", "张**"),
        ("张三", "张*"),
        ("张", "张*"),
        ("欧阳修", "欧阳*"),
        ("欧阳", "欧*"),
        ("", ""),
        ("  李四 ", "李*"),
    ],
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("13812345678", "138****5678"),
        ("05386201234", "0538*****34"),
        ("01062012345", "010******45"),
        ("4001234567", "********67"),
        ("", ""),
    ],
)
def test_mask_phone(number, masked):
    assert mask_phone(number) == masked


def test_mask_phone_never_shows_the_middle():
    masked = mask_phone("13812345678")
    assert "1234" not in masked.replace("5678", "")


@pytest.mark.parametrize(
    ("address", "room", "masked"),
    [
        ("泰山区幸福小区3号楼2单元501室", "501", "泰山区幸福小区3号楼2单元***室"),
        ("幸福小区3-2-501", "501", "幸福小区3-2-***"),
        ("泰山区岱宗大街幸福小区", "", "泰山区岱宗大街****"),
        ("短地址", "", "短地址"),
    ],
)
def test_mask_address(address, room, masked):
    assert mask_address(address, room) == masked


def test_mask_room():
    assert mask_room("501") == "***"
    assert mask_room("") == ""


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        # No registered room: the room is read from the address, never a fixed 4 characters (S2).
        ("泰山区幸福小区3号楼2单元1501室", "泰山区幸福小区3号楼2单元***室"),
        ("幸福小区3-2-1501", "幸福小区3-2-***"),
        ("岱宗大街88号幸福小区3号楼2单元501", "岱宗大街88号幸福小区3号楼2单元***"),
    ],
)
def test_mask_address_reads_the_room_when_none_is_given(address, masked):
    assert mask_address(address) == masked
    assert "1501" not in mask_address(address) and "501" not in mask_address(address)
