"""The columns of a customer import file (docs/import.md shows the same table).

Billing systems name their columns differently ("户号", "用户编号", "客户编号"…), so each column has
synonyms. Headers are compared after folding full-width characters, removing spaces, a trailing
"*" and any note in brackets: "联系电话（多个用;分隔）" matches "联系电话".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kefu.customers.normalize import fold


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    synonyms: tuple[str, ...]
    required: bool
    fmt: str
    example: str
    repeatable: bool = False  # several columns may feed it (e.g. 手机 and 固定电话)


COLUMNS: tuple[Column, ...] = (
    Column(
        "account_no",
        "户号",
        ("用户编号", "用户号", "客户编号", "客户号", "用户代码", "客户代码", "户编号", "账号", "帐号"),
        True,
        "字母、数字、-、_、.，最长 30 个字符；同一公司内唯一",
        "3800012345",
    ),
    Column(
        "name",
        "户名",
        ("用户名称", "客户名称", "用户名", "客户名", "户主", "户主姓名", "用户姓名", "客户姓名", "姓名"),
        True,
        "最长 100 个字符",
        "张建国",
    ),
    Column(
        "category",
        "客户类别",
        ("用户类别", "用户类型", "客户类型", "类别", "用气类别", "用气性质", "用户性质"),
        True,
        "居民、商业、工业、采暖、气代煤、公建（或本公司配置的其他类别）",
        "居民",
    ),
    Column(
        "status", "状态", ("用户状态", "客户状态", "户状态"), False, "正常、停用、销户；空白为正常", "正常"
    ),
    Column(
        "opened_on",
        "开户日期",
        ("开户时间", "立户日期", "建档日期", "通气日期"),
        False,
        "2024-03-15、2024/3/15、20240315 或 2024年3月15日",
        "2015-06-01",
    ),
    Column("district", "区县", ("区", "县区", "行政区", "所属区县"), False, "最长 30 个字符", "泰山区"),
    Column(
        "street",
        "街道",
        ("街道办", "乡镇", "乡镇街道", "街道乡镇", "所属街道"),
        False,
        "最长 50 个字符",
        "岱庙街道",
    ),
    Column(
        "community",
        "小区",
        ("小区名称", "社区", "小区名", "村庄", "小区村庄"),
        False,
        "最长 60 个字符",
        "东岳花园",
    ),
    Column("building", "楼号", ("楼栋", "楼栋号", "栋号", "楼"), False, "3、3号楼、3栋、A座", "3"),
    Column("unit", "单元", ("单元号",), False, "2、2单元", "2"),
    Column("room", "室号", ("房号", "门牌号", "房间号", "户室号", "室"), False, "501、501室", "501"),
    Column(
        "address",
        "详细地址",
        ("地址", "用气地址", "用户地址", "安装地址", "详细用气地址"),
        False,
        "最长 200 个字符；与“小区+楼号+室号”至少填一种",
        "泰山区岱庙街道东岳花园3号楼2单元501室",
    ),
    Column(
        "supply_zone",
        "供气区域",
        ("供气区域编码", "供气片区", "片区", "区域编码", "供气区"),
        False,
        "最长 30 个字符",
        "TS-01",
    ),
    Column(
        "phones",
        "联系电话",
        (
            "电话",
            "手机",
            "手机号",
            "手机号码",
            "联系方式",
            "电话号码",
            "联系手机",
            "固定电话",
            "座机",
            "联系人电话",
        ),
        False,
        "多个号码用 ; / ， 或 、 分隔，第一个为主要号码；座机可省略区号",
        "13805381234;0538-6201234",
        repeatable=True,
    ),
    Column(
        "meter_serial",
        "表号",
        ("表编号", "燃气表号", "表具编号", "气表编号", "表具号"),
        False,
        "最长 40 个字符",
        "IC20150601001",
    ),
    Column(
        "meter_kind",
        "表型",
        ("表类型", "表具类型", "燃气表类型", "表类别", "表具类别"),
        False,
        "IC卡表、智能表、机械表（有表号时必填）",
        "IC卡表",
    ),
    Column(
        "installed_on",
        "安装日期",
        ("装表日期", "表安装日期", "安装时间"),
        False,
        "日期，格式同开户日期",
        "2015-06-01",
    ),
    Column(
        "battery_on",
        "换电池日期",
        ("电池更换日期", "更换电池日期", "换电池时间"),
        False,
        "日期，格式同开户日期",
        "2023-10-08",
    ),
    Column("notes", "备注", ("说明", "备注信息"), False, "任意文字", ""),
    Column(
        "lat",
        "纬度",
        ("lat", "latitude", "纬度坐标", "地址纬度"),
        False,
        "−90 到 90 的小数（WGS-84，度），与经度同填或同空",
        "36.19512",
    ),
    Column(
        "lng",
        "经度",
        ("lng", "lon", "long", "longitude", "经度坐标", "地址经度"),
        False,
        "−180 到 180 的小数（WGS-84，度），与纬度同填或同空",
        "117.12035",
    ),
)

COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
TITLES = [c.title for c in COLUMNS]

_BRACKETS_RE = re.compile(r"\(.*?\)|\[.*?\]|【.*?】")


def header_key(text: str) -> str:
    """A header cell as compared: "  联系电话（多个用;分隔）* " → "联系电话"."""
    text = _BRACKETS_RE.sub("", fold(str(text or "")))
    return re.sub(r"[\s*:：]", "", text).lower()  # "Lat", "LAT" and "lat" alike


_LOOKUP: dict[str, str] = {}
for _col in COLUMNS:
    for _name in (_col.title, *_col.synonyms):
        _LOOKUP[header_key(_name)] = _col.key


def column_for_header(text: str) -> str | None:
    """The column key a header means, or None if unknown."""
    return _LOOKUP.get(header_key(text))
