"""Hostile files cannot kill the process that imports them (docs/security.md "Hostile files").

Each case is refused with a message in Chinese and writes nothing; the reader runs in a child
process with a memory and CPU limit, so even a reader that dies takes only itself down. The files
are generated small: limits are lowered where a real attack would need gigabytes.
"""

from __future__ import annotations

import base64
import codecs
import os

import pytest

from kefu.customers.importing import import_customers
from kefu.customers.importing.reading import ReadLimits, open_table
from kefu.customers.models import Customer
from kefu.customers.tests import hostile_files as hf
from kefu.customers.tests.test_import import HEADER, LINES, write_csv

pytestmark = pytest.mark.django_db


def refused(company, path, *fragments: str, **kw) -> str:
    before = Customer.objects.count()
    report = import_customers(company=company, path=path, **kw)
    assert not report.ok and report.problem, report.summary()
    for fragment in fragments:
        assert fragment in report.problem, report.problem
    assert Customer.objects.count() == before
    return report.problem


@pytest.mark.parametrize("dry_run", [False, True])
def test_sparse_xlsx_a1_and_xfd1048576_is_refused_and_the_process_lives(company_x, tmp_path, dry_run):
    """The 5 KB workbook that aborted the worker (signal 6) — also on a dry run."""
    path = hf.sparse_xlsx(tmp_path / "sparse.xlsx")
    assert path.stat().st_size < 5000
    refused(company_x, path, "A1:XFD1048576", "范围过大", dry_run=dry_run)


def test_sparse_xlsx_without_dimension_is_refused_while_streaming(company_x, tmp_path):
    path = hf.sparse_xlsx(tmp_path / "sparse.xlsx", dimension=False)
    refused(company_x, path, "第 1048576 行", "超过 256 列")


def test_a_declared_dimension_within_limits_but_wrong_is_harmless(company_x, tmp_path):
    """The dimension is not used to allocate: a sheet that claims A1:Z900000 but holds 2 rows imports."""
    rows = "".join(
        f'<row r="{r}">' + "".join(hf.cell(f"{col}{r}", v) for col, v in zip("ABCL", vals)) + "</row>"
        for r, vals in (
            (1, ("户号", "户名", "客户类别", "详细地址")),
            (2, ("77", "张三", "居民", "某小区1号")),
        )
    )
    path = hf.xlsx(
        tmp_path / "claims.xlsx",
        f'<worksheet {hf.NS}><dimension ref="A1:Z900000"/><sheetData>{rows}</sheetData></worksheet>',
    )
    report = import_customers(company=company_x, path=path)
    assert report.ok and report.created == 1, report.summary()


def test_zip_bomb_is_refused_before_reading(company_x, tmp_path):
    path = hf.zip_bomb_xlsx(tmp_path / "bomb.xlsx", megabytes=40)
    assert path.stat().st_size < 200_000
    refused(company_x, path, "压缩比异常", "压缩炸弹")


def test_workbook_larger_than_the_unzipped_limit_is_refused(company_x, tmp_path, settings):
    settings.KEFU_IMPORT = {**settings.KEFU_IMPORT, "MAX_UNZIPPED_MB": 1}
    path = hf.zip_bomb_xlsx(tmp_path / "big.xlsx", megabytes=2)
    refused(company_x, path, "解压后过大", "上限 1 MB")


def test_xml_entity_expansion_is_refused(company_x, tmp_path):
    refused(company_x, hf.entity_xlsx(tmp_path / "lol.xlsx"), "DTD")


def test_sparse_ods_is_refused(company_x, tmp_path):
    path = hf.sparse_ods(tmp_path / "sparse.xlsx")  # renamed: the bytes decide
    refused(company_x, path, "无法读取")


def test_a_reader_out_of_memory_fails_the_import_with_a_message(company_x, tmp_path, settings):
    """The last line of defence: whatever the reader does, it cannot take more than its budget."""
    big = base64.b64encode(os.urandom(15 << 20)).decode()  # one 20 MB cell that does not compress
    path = hf.xlsx(
        tmp_path / "big-cell.xlsx",
        f'<worksheet {hf.NS}><sheetData><row r="1">{hf.cell("A1", big)}</row></sheetData></worksheet>',
    )
    settings.KEFU_IMPORT = {**settings.KEFU_IMPORT, "MEMORY_MB": 1}
    refused(company_x, path, "内存上限")


def test_file_of_nul_bytes_is_refused(company_x, tmp_path):
    path = tmp_path / "nul.csv"
    path.write_bytes(b"\x00" * 100_000)
    refused(company_x, path, "不是表格文件")


def test_nul_after_the_sniffed_head_is_refused_with_its_line(company_x, tmp_path):
    lines = LINES * 2000  # > 64 KB before the NUL
    lines.append("9999,坏,居民,,,,,,,,,某地\x00址,,,,,,,")
    path = write_csv(tmp_path / "nul.csv", lines)
    refused(company_x, path, f"第 {len(lines) + 1} 行含有空字符")


def test_one_endless_line_is_refused_by_the_line_limit(company_x, tmp_path, settings):
    """A 2 GB line, scaled down: the limit is lowered to 10,000 characters, the line is 300,000."""
    settings.KEFU_IMPORT = {**settings.KEFU_IMPORT, "MAX_LINE_CHARS": 10_000}
    path = hf.long_line_csv(tmp_path / "long.csv", 300_000)
    refused(company_x, path, "第 2 行过长", "10000")


def test_an_unclosed_quote_cannot_swallow_the_file(company_x, tmp_path, settings):
    settings.KEFU_IMPORT = {**settings.KEFU_IMPORT, "MAX_LINE_CHARS": 10_000}
    path = write_csv(tmp_path / "quote.csv", ['1,"张三,居民,某地'] + ["x" * 100] * 200)
    refused(company_x, path, "超过 10000 个字符")


def test_too_many_columns_is_refused(company_x, tmp_path):
    path = write_csv(tmp_path / "wide.csv", [",".join(["1"] * 300)])
    refused(company_x, path, "300 列", "256")


@pytest.mark.parametrize(
    "content, encoding, fragment",
    [
        ((HEADER + "\n" + LINES[0] + "\n").encode("gbk"), "utf-8", "不是 UTF-8 编码"),
        (b"\xff\xfe" + (HEADER + "\n").encode("utf-16-le") + b"\x00\xd8\x41\x00", None, "UTF-16"),
        (
            (HEADER + "\n").encode() + (LINES[0] + "\n").encode() * 7000 + b"\xff\xfe\xfd\n",
            None,
            "行附近无法解码",
        ),
        ((HEADER + "\n").encode("utf-8"), "utf-16", "不是 UTF-16 编码"),
        (codecs.BOM_UTF8 + "户号\n".encode() + b"\x81\x30\x81\x30", "klingon", "不支持的编码"),
    ],
    ids=["gbk-as-utf8", "utf16-lone-surrogate", "bad-bytes-late", "utf8-as-utf16", "unknown-encoding"],
)
def test_wrong_encodings_are_refused_with_a_message(company_x, tmp_path, content, encoding, fragment):
    path = tmp_path / "enc.csv"
    path.write_bytes(content)
    refused(company_x, path, fragment, encoding=encoding)


def test_stopping_early_ends_the_reading_child(tmp_path):
    """A caller that stops reading (header problems) must not leave a child behind."""
    path = write_csv(tmp_path / "many.csv", LINES * 20000)
    table = open_table(path, limits=ReadLimits())
    next(table.rows)
    status = table.close()
    assert status in (0, -9)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no child of ours left


def test_import_run_with_the_sparse_workbook_fails_and_its_file_is_deleted(company_x, tmp_path, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from kefu.accounts.tests.factories import UserFactory
    from kefu.customers.importing.runs import import_run_create, import_run_process
    from kefu.customers.models import ImportRun

    settings.MEDIA_ROOT = tmp_path / "media"
    clerk = UserFactory(company=company_x, role="supervisor", username="imp")
    data = hf.sparse_xlsx(tmp_path / "s.xlsx").read_bytes()
    run = import_run_create(user=clerk, upload=SimpleUploadedFile("客户.xlsx", data), dry_run=True)
    stored = run.file.path
    import_run_process(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED and "范围过大" in run.message
    assert not os.path.exists(stored) and not run.file


@pytest.mark.django_db(transaction=True)
def test_kefu_import_customers_command_refuses_the_sparse_workbook_and_exits_1(company_x, tmp_path):
    """Through the command line too (it aborted with signal 6): exit 1 with the message, dry run or not."""
    import subprocess
    import sys

    from django.conf import settings

    from kefu.tests.test_worker_faults import _database_url, _publish_database

    path = hf.sparse_xlsx(tmp_path / "sparse.xlsx")
    _publish_database(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    env.update(
        DJANGO_SETTINGS_MODULE="kefu.settings",
        KEFU_DATABASE_URL=_database_url(tmp_path),
        KEFU_VAR_DIR=str(tmp_path / "var"),
    )
    for extra in (["--dry-run"], []):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "kefu",
                "import-customers",
                str(path),
                "--company",
                "x",
                "--no-progress",
                *extra,
            ],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 1, (done.returncode, done.stderr[-2000:])
        assert "范围过大" in done.stdout and "导入失败" in done.stderr
