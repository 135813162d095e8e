"""Masking of personal data (S2): shown masked everywhere by default — 张**, 138****5678,
幸福小区3号楼2单元*** — and in full only to roles with `customer.view_unmasked`, each view logged."""

from __future__ import annotations

from kefu.customers.normalize import parse_address


def mask_name(name: str) -> str:
    """Keep the surname (first character; two for common compound surnames): "张三丰" → "张**"."""
    name = (name or "").strip()
    if not name:
        return ""
    keep = 2 if name[:2] in _COMPOUND_SURNAMES else 1
    if len(name) <= keep:
        return name[0] + "*"
    return name[:keep] + "*" * (len(name) - keep)


def mask_phone(number: str) -> str:
    """Keep the first 3 and last 4 digits of a mobile ("138****5678"), the area code and last 2 of a
    landline ("0538*****34")."""
    number = number or ""
    if len(number) == 11 and number.startswith("1"):
        return f"{number[:3]}****{number[-4:]}"
    if number.startswith("0") and len(number) >= 10:
        area = 4 if number[1] not in "12" else 3
        return number[:area] + "*" * (len(number) - area - 2) + number[-2:]
    return "*" * max(len(number) - 2, 0) + number[-2:]


def mask_room(room: str) -> str:
    """Room numbers identify a household: shown as ***."""
    return "***" if room else ""


def mask_address(address: str, room: str = "") -> str:
    """The written address with the room replaced by ***.

    The room is `room` (the registered premise's) when it stands in the address, else the room read
    from the address itself ("幸福小区3号楼2单元1501室", "3-2-1501"); only when neither is found
    are the last 4 characters hidden. One rule for every screen: hiding a fixed 4 characters of
    "…2单元1501室" would leave a digit of the room."""
    address = address or ""
    for candidate in (room, parse_address(address).room if address else ""):
        if candidate and candidate in address:
            head, _, tail = address.rpartition(candidate)
            return head + "***" + tail
    return address[:-4] + "****" if len(address) > 8 else address


_COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 端木 独孤 南宫 西门 百里".split()
)
