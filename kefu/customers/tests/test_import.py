"""Import of billing exports: encodings, bad files, per-line report, dry run,
upsert idempotence, one transaction, one audit row, company isolation."""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from django.db import DatabaseError

from kefu.accounts.models import AuditEvent
from kefu.customers.defaults import company_seed_defaults
from kefu.customers.importing import import_customers
from kefu.customers.importing.bulk import CustomerBulkWriter
from kefu.customers.models import Customer, CustomerCategory, CustomerStatusChange, Meter, Phone, Premise

HEADER = "户号,户名,客户类别,状态,开户日期,区县,街道,小区,楼号,单元,室号,详细地址,供气区域,联系电话,表号,表型,安装日期,换电池日期,备注"  # noqa: E501 (one message or data row, kept whole)
LINES = [
    "1001,张建国,居民,正常,2015-06-01,泰山区,岱庙街道,东岳花园,3,2,501,,TS-01,13805381234;0538-6201234,IC001,IC卡表,2015-06-01,2023-10-08,独居",
    "1002,李记家常菜馆,商业,停用,2016/3/5,泰山区,财源街道,,,,,泰山区东岳大街12号,TS-02,6201235,JX002,机械表,,,",
    "1003,王秀英,居民,,2020年1月2日,岱岳区,粥店街道,龙潭家园,5号楼,1单元,302室,,DY-01,139 0538 0001、13905380002,ZN003,智能表,20200102,,",  # noqa: E501 (one message or data row, kept whole)
]


def write_csv(path: Path, lines: list[str], *, encoding: str = "utf-8", header: str = HEADER) -> Path:
    path.write_bytes(("\r\n".join([header, *lines]) + "\r\n").encode(encoding))
    return path


def counts() -> tuple[int, int, int, int, int, int]:
    return (
        Customer.objects.count(),
        Premise.objects.count(),
        Phone.objects.count(),
        Meter.objects.count(),
        CustomerStatusChange.objects.count(),
        AuditEvent.objects.filter(action="data.imported").count(),
    )


def snapshot(company) -> list[tuple]:
    rows = []
    for c in (
        Customer.objects.filter(company=company).select_related("premise", "category").order_by("account_no")
    ):
        rows.append(
            (
                c.account_no,
                c.name,
                c.category.code,
                c.status,
                c.opened_on,
                c.suspended_on,
                c.notes,
                (
                    c.premise.district,
                    c.premise.street,
                    c.premise.community,
                    c.premise.building,
                    c.premise.unit,
                    c.premise.room,
                    c.premise.address,
                    c.premise.supply_zone,
                ),
                sorted(c.phones.values_list("number", "kind", "is_primary")),
                sorted(c.meters.values_list("serial", "kind", "installed_on", "battery_replaced_on")),
            )
        )
    return rows


@pytest.fixture
def good_csv(tmp_path):
    return write_csv(tmp_path / "good.csv", LINES)


def test_import_creates_customers_with_premises_phones_meters(company_x, good_csv):
    report = import_customers(company=company_x, path=good_csv)
    assert report.ok, report.summary()
    assert (report.rows, report.created, report.updated, report.unchanged) == (3, 3, 0, 0)
    snap = snapshot(company_x)
    assert snap[0] == (
        "1001",
        "张建国",
        "resident",
        "active",
        date(2015, 6, 1),
        None,
        "独居",
        ("泰山区", "岱庙街道", "东岳花园", "3", "2", "501", "泰山区岱庙街道东岳花园3号楼2单元501室", "TS-01"),
        [("05386201234", "landline", False), ("13805381234", "mobile", True)],
        [("IC001", "ic_card", date(2015, 6, 1), date(2023, 10, 8))],
    )
    # A local number gets the company's area code; a written address is parsed into its parts.
    assert snap[1][3] == "suspended" and snap[1][8] == [("05386201235", "landline", True)]
    assert snap[1][7][6] == "泰山区东岳大街12号"
    # "5号楼", "1单元", "302室" are stored normalised; 、 separates phones; spaces inside a number go.
    assert snap[2][7][3:6] == ("5", "1", "302")
    assert snap[2][8] == [("13905380001", "mobile", True), ("13905380002", "mobile", False)]
    assert snap[2][4] == date(2020, 1, 2)
    history = list(
        CustomerStatusChange.objects.filter(customer__account_no="1002").values_list("status", flat=True)
    )
    assert history == ["active", "suspended"]


def test_gbk_and_utf8_files_import_identically(company_x, company_y, tmp_path):
    r1 = import_customers(company=company_x, path=write_csv(tmp_path / "u.csv", LINES, encoding="utf-8"))
    r2 = import_customers(company=company_y, path=write_csv(tmp_path / "g.csv", LINES, encoding="gbk"))
    assert (r1.encoding, r2.encoding) == ("utf-8", "gb18030")
    assert r1.ok and r2.ok
    assert snapshot(company_x) == snapshot(company_y)


def test_utf8_bom_file(company_x, tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeff".encode() + (HEADER + "\n" + LINES[0] + "\n").encode())
    report = import_customers(company=company_x, path=path)
    assert report.ok and report.encoding == "utf-8-sig" and report.created == 1


def test_header_synonyms_and_two_phone_columns(company_x, tmp_path):
    header = "用户编号,用户名称,用户类别,地址,手机,固定电话"
    path = write_csv(
        tmp_path / "syn.csv", ["A-1,赵六,民用,泰山区幸福小区3-2-501,13800000001,6201111"], header=header
    )
    report = import_customers(company=company_x, path=path)
    assert report.ok, report.errors
    c = Customer.objects.get(company=company_x, account_no="A-1")
    assert (c.category.code, c.premise.building, c.premise.unit, c.premise.room) == (
        "resident",
        "3",
        "2",
        "501",
    )
    assert list(c.phones.order_by("-is_primary").values_list("number", flat=True)) == [
        "13800000001",
        "05386201111",
    ]


def test_xlsx_generated_with_openpyxl(company_x, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["泰安安泰燃气 用户档案导出"])  # a title row above the headers, as billing systems write
    ws.append(HEADER.split(","))
    ws.append(
        [
            3800012345,
            "张建国",
            "居民",
            "正常",
            datetime(2015, 6, 1),
            "泰山区",
            "岱庙街道",
            "东岳花园",
            3,
            2,
            501,
            None,
            "TS-01",
            13805381234,
            "IC001",
            "IC卡表",
            date(2015, 6, 1),
            None,
            None,
        ]
    )
    ws.append(
        [
            3800012346,
            "李四",
            "公建",
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            "泰山区第一中学",
            None,
            None,
            None,
            None,
            None,
            None,
            None,
        ]
    )
    path = tmp_path / "export.xlsx"
    wb.save(path)
    report = import_customers(company=company_x, path=path)
    assert report.ok, report.errors
    assert report.file_kind == "xlsx" and report.created == 2
    c = Customer.objects.get(company=company_x, account_no="3800012345")
    assert (c.opened_on, c.premise.room, list(c.phones.values_list("number", flat=True))) == (
        date(2015, 6, 1),
        "501",
        ["13805381234"],
    )


def test_xlsx_errors_use_excel_row_numbers(company_x, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(HEADER.split(","))
    ws.append(["1", "甲", "居民"] + [None] * 8 + ["某地址"])
    ws.append(["2", "乙", "不存在的类别"] + [None] * 8 + ["某地址"])
    path = tmp_path / "bad.xlsx"
    wb.save(path)
    report = import_customers(company=company_x, path=path)
    assert [(e.line, e.column) for e in report.errors] == [(3, "客户类别")]


BAD_FILES = {
    "empty": (b"", "文件是空的"),
    "header_only": ((HEADER + "\n").encode(), "没有数据行"),
    "png": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "PNG 图片"),
    "pdf": (b"%PDF-1.4\n%\xe2\xe3\n", "PDF 文档"),
    "missing_columns": ("户号,地址\n1,某地\n".encode(), "缺少必需的列：户名、客户类别"),
    "no_known_header": ("甲,乙,丙\n1,2,3\n".encode(), "没有找到可识别的列名"),
    "binary": (b"abc\x00\x01\x02" * 50, "不是表格文件"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_bad_file_gives_message_and_writes_nothing(company_x, tmp_path, case, suffix):
    content, message = BAD_FILES[case]
    path = tmp_path / f"bad{suffix}"
    path.write_bytes(content)
    before = counts()
    report = import_customers(company=company_x, path=path)
    assert not report.ok
    assert message in report.summary()
    assert counts() == before


def test_zip_that_is_not_a_workbook(company_x, tmp_path):
    path = tmp_path / "data.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    before = counts()
    report = import_customers(company=company_x, path=path)
    assert "ZIP 压缩包" in report.problem and counts() == before


def test_wrong_encoding_is_a_clear_message(company_x, tmp_path):
    path = write_csv(tmp_path / "g.csv", LINES, encoding="gbk")
    before = counts()
    report = import_customers(company=company_x, path=path, encoding="utf-8")
    assert "不是 UTF-8 编码" in report.problem
    assert counts() == before


def test_duplicate_account_in_file_names_both_lines_and_writes_nothing(company_x, tmp_path):
    path = write_csv(tmp_path / "dup.csv", [LINES[0], LINES[1], LINES[0].replace("张建国", "张三")])
    before = counts()
    report = import_customers(company=company_x, path=path)
    assert [(e.line, e.column) for e in report.errors] == [(4, "户号")]
    assert "第 2 行和第 4 行" in report.errors[0].reason
    assert "未写入任何数据" in report.summary()
    assert counts() == before


def test_invalid_phone_is_reported_and_nothing_written(company_x, tmp_path):
    bad = LINES[2].replace("13905380002", "12345")
    path = write_csv(tmp_path / "phone.csv", [LINES[0], LINES[1], bad])
    before = counts()
    report = import_customers(company=company_x, path=path)
    assert [(e.line, e.column, e.reason) for e in report.errors] == [(4, "联系电话", "电话号码“12345”无效。")]
    assert counts() == before


def test_every_bad_line_is_reported(company_x, tmp_path):
    lines = [
        ",无户号,居民,,,,,,,,,某地,,,,,,,",
        "2,,居民,,,,,,,,,某地,,,,,,,",
        "3,丙,居民,搬走了,2015-13-01,,,,,,,,,,X1,,,,",
        "4,丁,居民,,,,,,,,,某地,,,,电表,,,",
        "5.1E+11,戊,居民,,,,,,,,,某地,,,,,,,",
    ]
    report = import_customers(company=company_x, path=write_csv(tmp_path / "many.csv", lines))
    assert [(e.line, e.column) for e in report.errors] == [
        (2, "户号"),
        (3, "户名"),
        (4, "状态"),
        (4, "开户日期"),
        (4, "详细地址"),
        (4, "表型"),
        (5, "表号"),
        (6, "户号"),
    ]
    assert "科学计数法" in report.errors[-1].reason
    assert Customer.objects.count() == 0


def test_dry_run_validates_counts_and_writes_nothing(company_x, good_csv):
    before = counts()
    report = import_customers(company=company_x, path=good_csv, dry_run=True)
    assert report.ok and (report.created, report.updated) == (3, 0)
    assert "试运行通过" in report.summary()
    assert counts() == before
    assert not CustomerCategory.objects.filter(company=company_x).exists()  # not even the default categories


def test_dry_run_after_import_counts_updates(company_x, good_csv, tmp_path):
    import_customers(company=company_x, path=good_csv)
    changed = write_csv(tmp_path / "c.csv", [LINES[0].replace("张建国", "张建华"), LINES[1], LINES[2]])
    report = import_customers(company=company_x, path=changed, dry_run=True)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 2)
    assert Customer.objects.get(account_no="1001").name == "张建国"


def test_reimport_changes_nothing_and_reports_no_new(company_x, good_csv):
    import_customers(company=company_x, path=good_csv)
    first, before = snapshot(company_x), counts()
    versions = list(Customer.objects.order_by("pk").values_list("version", flat=True))
    report = import_customers(company=company_x, path=good_csv)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 3)
    assert snapshot(company_x) == first
    assert counts()[:5] == before[:5]
    assert list(Customer.objects.order_by("pk").values_list("version", flat=True)) == versions


def test_upsert_updates_changed_fields_and_adds_phones(company_x, good_csv, tmp_path):
    import_customers(company=company_x, path=good_csv)
    c = Customer.objects.get(account_no="1001")
    Phone.objects.create(customer=c, number="13900000000", kind="mobile")  # added by an agent in kefu
    line = (
        LINES[0]
        .replace("张建国", "张建华")
        .replace("13805381234;0538-6201234", "13700000000;13805381234")
        .replace(",正常,", ",销户,")
    )
    report = import_customers(company=company_x, path=write_csv(tmp_path / "u.csv", [line]))
    assert (report.created, report.updated, report.unchanged) == (0, 1, 0)
    c.refresh_from_db()
    assert (c.name, c.status, c.version, c.closed_on is not None) == ("张建华", "closed", 2, True)
    phones = dict(c.phones.values_list("number", "is_primary"))
    assert phones == {"13700000000": True, "13805381234": False, "05386201234": False, "13900000000": False}
    assert c.status_changes.order_by("-id").first().status == "closed"


def test_moved_customer_gets_another_premise_and_premises_are_shared(company_x, tmp_path):
    lines = [
        "1,甲,居民,,,,,东岳花园,3,2,501,,,,,,,,",
        "2,乙,商业,,,,,东岳花园,3,2,501,,,,,,,,",
    ]
    import_customers(company=company_x, path=write_csv(tmp_path / "a.csv", lines))
    assert Premise.objects.count() == 1
    moved = ["1,甲,居民,,,,,东岳花园,3,2,502,,,,,,,,"]
    report = import_customers(company=company_x, path=write_csv(tmp_path / "b.csv", moved))
    assert report.updated == 1
    assert Customer.objects.get(account_no="1").premise.room == "502"
    assert Customer.objects.get(account_no="2").premise.room == "501"


def test_one_audit_row_per_import_with_counts(company_x, good_csv, supervisor_x):
    import_customers(company=company_x, path=good_csv, actor=supervisor_x)
    rows = list(AuditEvent.objects.filter(action="data.imported"))
    assert len(rows) == 1
    assert rows[0].actor == supervisor_x and rows[0].company == company_x
    assert (rows[0].detail["created"], rows[0].detail["rows"]) == (3, 3)


def test_import_in_company_y_never_touches_x(company_x, company_y, good_csv, tmp_path):
    import_customers(company=company_x, path=good_csv)
    x_before = snapshot(company_x)
    other = write_csv(tmp_path / "y.csv", [LINES[0].replace("张建国", "别人")])
    report = import_customers(company=company_y, path=other)
    assert report.created == 1 and report.updated == 0
    assert snapshot(company_x) == x_before
    assert Customer.objects.get(company=company_y, account_no="1001").name == "别人"


def test_a_failed_batch_rolls_back_everything(company_x, good_csv, monkeypatch):
    company_seed_defaults(company_x)
    real_write = CustomerBulkWriter.write
    calls = {"n": 0}

    def failing_write(self, batch):
        calls["n"] += 1
        if calls["n"] == 2:
            raise DatabaseError("disk full")
        return real_write(self, batch)

    monkeypatch.setattr(CustomerBulkWriter, "write", failing_write)
    before = counts()
    report = import_customers(company=company_x, path=good_csv, batch_size=2)
    assert not report.ok and "已全部回滚" in report.problem
    assert counts() == before


def test_progress_callback_and_stages(company_x, good_csv):
    seen, stages = [], []
    import_customers(
        company=company_x, path=good_csv, progress=lambda p, t: seen.append((p, t)), on_stage=stages.append
    )
    assert stages == ["validating", "writing"]
    assert seen[-1] == (3, 3)


def test_default_categories_follow_c5(company_x):
    company_seed_defaults(company_x)
    company_seed_defaults(company_x)  # idempotent
    freq = dict(
        CustomerCategory.objects.filter(company=company_x).values_list("name", "inspections_per_year")
    )
    assert freq == {"居民": 1, "商业": 3, "工业": 3, "采暖": 3, "气代煤": 2, "公建": 1}
    assert company_x.departments.count() == 9


def test_docs_list_every_column_and_synonym():
    from django.conf import settings

    from kefu.customers.importing.columns import COLUMNS

    text = (settings.BASE_DIR / "docs" / "import.md").read_text(encoding="utf-8")
    for col in COLUMNS:
        assert f"| {col.title} | {'、'.join(col.synonyms)} |" in text, col.title


def test_garbage_collector_is_paused_during_the_import_and_restored(
    company_x, good_csv, tmp_path, monkeypatch
):
    import gc

    seen = []
    real_write = CustomerBulkWriter.write

    def spying_write(self, batch):
        seen.append(gc.isenabled())
        return real_write(self, batch)

    monkeypatch.setattr(CustomerBulkWriter, "write", spying_write)
    assert gc.isenabled()
    assert import_customers(company=company_x, path=good_csv).ok
    assert seen == [False] and gc.isenabled()
    bad = write_csv(tmp_path / "bad.csv", ["1009,,居民,,,,,,,,,某地址,,,,,,,"])
    assert not import_customers(company=company_x, path=bad).ok
    assert gc.isenabled()
    gc.disable()  # a caller that had it off keeps it off
    try:
        import_customers(company=company_x, path=good_csv)
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.fixture(params=["set_based", "per_row"])
def fk_mode(request, monkeypatch):
    """PostgreSQL checks the references set-based when the role may (the test role may), else per
    row; both must behave the same. SQLite always checks per row: both params are the same there."""
    if request.param == "per_row":
        monkeypatch.setattr(CustomerBulkWriter, "_replica_mode", lambda self, on: False)
    return request.param


@pytest.mark.django_db(transaction=True)
def test_premise_deleted_after_the_writer_loaded_it_fails_the_import_and_writes_nothing(
    company_x, good_csv, tmp_path, monkeypatch, fk_mode
):
    assert import_customers(company=company_x, path=good_csv).ok
    real = CustomerBulkWriter._premise_ids

    def stale(self, keys):  # as if another user deleted every premise after the writer read them
        premises = real(self, keys)
        for key in premises:
            premises[key] += 10**9
        return premises

    monkeypatch.setattr(CustomerBulkWriter, "_premise_ids", stale)
    before, snap = counts(), snapshot(company_x)
    same_place = write_csv(
        tmp_path / "same.csv", [LINES[0].replace("1001,张建国", "2001,张小军").replace("IC001", "IC201")]
    )
    report = import_customers(company=company_x, path=same_place)
    assert not report.ok and "已全部回滚" in report.problem
    assert counts() == before and snapshot(company_x) == snap
    from django.db import connection

    if connection.vendor == "postgresql":
        assert ("no longer exist" in report.problem) == (fk_mode == "set_based"), report.problem


@pytest.mark.django_db(transaction=True)
def test_committed_import_and_upsert_are_the_same_in_both_foreign_key_modes(
    company_x, good_csv, tmp_path, fk_mode
):
    assert import_customers(company=company_x, path=good_csv).ok
    changed = write_csv(
        tmp_path / "changed.csv",
        [
            LINES[0].replace("张建国", "张建军").replace("13805381234", "13805389999"),
            LINES[1].replace("泰山区东岳大街12号", "泰山区东岳大街14号"),
            LINES[2],
            "1004,赵丽,公建,正常,2021-01-01,泰山区,岱庙街道,东岳花园,3,2,501,,TS-01,13905381111,IC004,IC卡表,,,",
        ],
    )
    report = import_customers(company=company_x, path=changed)
    assert report.ok, report.summary()
    assert (report.created, report.updated, report.unchanged) == (1, 2, 1)
    snap = {row[0]: row for row in snapshot(company_x)}
    assert snap["1001"][1] == "张建军" and ("13805389999", "mobile", True) in snap["1001"][8]
    assert ("13805381234", "mobile", False) in snap["1001"][8]  # kept, no longer primary
    assert snap["1002"][7][6] == "泰山区东岳大街14号"
    assert snap["1004"][7] == snap["1001"][7]  # the same premise, shared
    assert Premise.objects.filter(company=company_x).count() == 4


def test_postgresql_role_setting_is_restored_after_each_batch(company_x, good_csv, tmp_path):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    assert import_customers(company=company_x, path=good_csv, batch_size=2).ok
    with connection.cursor() as cur:
        cur.execute("SHOW session_replication_role")
        assert cur.fetchone()[0] == "origin"
    bad_write = CustomerBulkWriter._apply

    def failing(self, plan):
        bad_write(self, plan)
        raise DatabaseError("disk full")

    CustomerBulkWriter._apply = failing
    try:
        assert not import_customers(company=company_x, path=good_csv).ok
    finally:
        CustomerBulkWriter._apply = bad_write
    with connection.cursor() as cur:
        cur.execute("SHOW session_replication_role")
        assert cur.fetchone()[0] == "origin"


def test_premise_coordinates_columns_validated_line_by_line(company_x, tmp_path):
    """纬度 / 经度 (or lat / lng): optional, both or neither, within range; every bad line reported
    with its column, nothing written; a good file sets the premise's coordinates (kefu.field judges
    an arrival's distance by them, C8) and a re-import with blank cells keeps them."""
    header = "户号,户名,客户类别,详细地址,纬度,经度"
    bad = [
        "2001,甲,居民,幸福小区1号楼1单元101室,36.19,117.12",
        "2002,乙,居民,幸福小区1号楼1单元102室,91,117.12",
        "2003,丙,居民,幸福小区1号楼1单元103室,36.19,",
        "2004,丁,居民,幸福小区1号楼1单元104室,北纬36度,-181",
    ]
    report = import_customers(company=company_x, path=write_csv(tmp_path / "bad.csv", bad, header=header))
    assert [(e.line, e.column) for e in report.errors] == [(3, "纬度"), (4, "经度"), (5, "纬度"), (5, "经度")]
    assert "超出范围" in report.errors[0].reason and "也须填写" in report.errors[1].reason
    assert "不是有效的数字" in report.errors[2].reason
    assert Customer.objects.count() == 0

    good = [
        "2001,甲,居民,幸福小区1号楼1单元101室,36.19512,117.12035",
        "2002,乙,居民,幸福小区1号楼1单元102室,,",
    ]
    report = import_customers(
        company=company_x,
        path=write_csv(tmp_path / "good.csv", good, header="户号,户名,客户类别,详细地址,Lat,LNG"),
    )
    assert report.ok, report.errors
    p1 = Customer.objects.get(account_no="2001").premise
    assert (p1.lat, p1.lng) == (36.19512, 117.12035)
    p2 = Customer.objects.get(account_no="2002").premise
    assert (p2.lat, p2.lng) == (None, None)
    # blank cells keep what is stored; new values replace it
    again = ["2001,甲,居民,幸福小区1号楼1单元101室,,", "2002,乙,居民,幸福小区1号楼1单元102室,36.2,117.1"]
    report = import_customers(company=company_x, path=write_csv(tmp_path / "again.csv", again, header=header))
    assert report.ok and report.updated == 1 and report.unchanged == 1
    p1.refresh_from_db()
    p2.refresh_from_db()
    assert (p1.lat, p1.lng) == (36.19512, 117.12035) and (p2.lat, p2.lng) == (36.2, 117.1)
