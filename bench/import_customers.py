"""Benchmark: import an N-row billing export (CSV) into a fresh company (target ≥ 20,000 rows/s).

    .venv/bin/python -m bench.import_customers [--rows 1000000] [--keep-file PATH] [--dry-run]

Generates a realistic CSV (Chinese headers, 1–2 phones, a meter, structured addresses), then
times `import_customers` end to end (reading, validation, writing, commit) into a new company,
and prints one JSON object: {rows, seconds, rows_per_second, database, ...}. Set
KEFU_DATABASE_URL for PostgreSQL (migrate first) or KEFU_VAR_DIR for a scratch SQLite database.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

HEADER = [
    "户号",
    "户名",
    "客户类别",
    "状态",
    "开户日期",
    "区县",
    "街道",
    "小区",
    "楼号",
    "单元",
    "室号",
    "详细地址",
    "供气区域",
    "联系电话",
    "表号",
    "表型",
    "安装日期",
    "换电池日期",
    "备注",
]
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英建国志强海燕玉兰春梅"
DISTRICTS = [
    ("泰山区", ["岱庙街道", "财源街道", "泰前街道", "上高街道", "徐家楼街道"]),
    ("岱岳区", ["粥店街道", "天平街道", "北集坡街道", "满庄镇"]),
    ("高新区", ["南关街道", "北天门街道"]),
]
KINDS = ["IC卡表", "智能表", "机械表"]


def generate_csv(path: Path, rows: int, seed: int = 1) -> None:
    """Write `rows` customers: ~95 % 居民 in communities, the rest 商业/公建/工业 on streets."""
    rnd = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        n = 0
        community = 0
        while n < rows:
            community += 1
            district, streets = DISTRICTS[community % len(DISTRICTS)]
            street = streets[community % len(streets)]
            cname = f"第{community}花园"
            zone = f"Z{community % 97:02d}"
            for building in range(1, 1 + rnd.randint(5, 20)):
                for unit in range(1, 1 + rnd.randint(1, 4)):
                    for floor in range(1, 1 + rnd.randint(5, 18)):
                        for door in (1, 2):
                            if n >= rows:
                                break
                            n += 1
                            room = f"{floor}{door:02d}"
                            cat = (
                                "居民"
                                if rnd.random() < 0.95
                                else rnd.choice(["商业", "公建", "工业", "采暖", "气代煤"])
                            )
                            phones = f"1{rnd.randint(3, 9)}{rnd.randint(0, 999999999):09d}"
                            if rnd.random() < 0.3:
                                phones += f";0538-{rnd.randint(2000000, 8999999)}"
                            year = rnd.randint(1998, 2025)
                            w.writerow(
                                [
                                    f"{3800000000 + n}",
                                    rnd.choice(SURNAMES) + rnd.choice(GIVEN) + rnd.choice(GIVEN),
                                    cat,
                                    "正常" if rnd.random() < 0.97 else "停用",
                                    f"{year}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
                                    district,
                                    street,
                                    cname,
                                    building,
                                    unit,
                                    room,
                                    "",
                                    zone,
                                    phones,
                                    f"M{n:09d}",
                                    rnd.choice(KINDS),
                                    f"{year}-06-01",
                                    "",
                                    "",
                                ]
                            )


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep-file", help="write the generated CSV here and keep it")
    parser.add_argument("--dry-run", action="store_true", help="validate only")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
    import django

    django.setup()
    from django.db import connection

    from kefu.accounts.models import Company
    from kefu.customers.defaults import company_seed_defaults
    from kefu.customers.importing import import_customers

    tmpdir = tempfile.TemporaryDirectory()
    path = Path(args.keep_file) if args.keep_file else Path(tmpdir.name) / "customers.csv"
    t0 = time.perf_counter()
    generate_csv(path, args.rows, args.seed)
    generated = time.perf_counter() - t0

    code = f"bench{int(time.time() * 1000) % 10**10}"
    company = Company.objects.create(
        code=code, name=f"基准测试燃气公司 {code}", short_name="基准", area_code="0538"
    )
    company_seed_defaults(company)
    t0, c0 = time.perf_counter(), time.process_time()
    report = import_customers(company=company, path=path, dry_run=args.dry_run)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    result = {
        "benchmark": "import_customers",
        "rows": report.rows,
        "seconds": round(seconds, 2),
        "rows_per_second": round(report.rows / seconds) if seconds else None,
        "cpu_seconds": round(cpu, 2),  # this process only (on PostgreSQL the server's work is not in it)
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "database": connection.vendor,
        "load_average": [round(x, 1) for x in os.getloadavg()],  # the machine's load at the end
        "created": report.created,
        "dry_run": args.dry_run,
        "ok": report.ok,
        "message": report.summary(),
        "file_bytes": path.stat().st_size,
        "generate_seconds": round(generated, 2),
        "company": code,
    }
    print(json.dumps(result, ensure_ascii=False))
    tmpdir.cleanup()
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
