"""Benchmark: knowledge-base search from the desk at N articles (target: 10,000 articles, p99 ≤ 50 ms).

    .venv/bin/python -m bench.followups_kb [--n 10000] [--queries 500]

Bulk-inserts N approved articles of a bench company (Chinese titles, keywords and answers of
200–600 characters built from a gas-service vocabulary), then times `kefu.followups.selectors.kb_search`
for `--queries` queries as an agent types them (prefixes of one to three words: 1, 2 … characters),
and prints the p50 / p95 / p99 / max milliseconds as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time

BENCH_CODE = "bench-kb"
WORDS = (
    "开户 报装 材料 身份证 房产证 阶梯 气价 收费 IC卡 充值 补卡 电池 表具 漏气 燃气味 "
    "软管 更换 安全 停气 通知 施工 抢险 维修 热水器 壁挂炉 灶具 点火 过户 销户 预约 "
    "安检 上门 营业厅 微信 缴费 发票 欠费 恢复 供气 压力"
).split()


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
    os.environ.setdefault("KEFU_DEBUG", "0")
    import django

    django.setup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if "django" not in sys.modules or not getattr(sys.modules["django"], "apps", None):
        _setup_django()
    from django.db import connection

    from kefu.accounts.models import Company, User
    from kefu.followups.models import Article
    from kefu.followups.selectors import kb_search
    from kefu.followups.services.knowledge import search_text

    rnd = random.Random(args.seed)
    company, _ = Company.objects.get_or_create(
        code=BENCH_CODE, defaults={"name": "知识库基准燃气", "short_name": "知识库基准"}
    )
    agent, _ = User.objects.get_or_create(
        username="bench_kb_agent", defaults=dict(company=company, role="agent")
    )
    if Article.objects.filter(company=company).count() != args.n:
        Article.objects.filter(company=company).delete()
        rows = []
        for i in range(args.n):
            title = "".join(rnd.sample(WORDS, 3)) + f"问题{i}"
            keywords = " ".join(rnd.sample(WORDS, 4))
            body = "，".join("".join(rnd.sample(WORDS, 4)) for _ in range(rnd.randint(12, 36))) + "。"
            rows.append(
                Article(
                    company=company,
                    category=rnd.choice(Article.Category.values),
                    title=title,
                    body=body,
                    keywords=keywords,
                    search_text=search_text(title, keywords, body),
                    version=1,
                    is_published=True,
                )
            )
        Article.objects.bulk_create(rows, batch_size=1000)
    times = []
    for _ in range(args.queries):
        words = rnd.sample(WORDS, rnd.randint(1, 3))
        typed = " ".join(words)
        q = typed[: rnd.randint(1, len(typed))].strip() or words[0]
        t0 = time.perf_counter()
        kb_search(user=agent, q=q, limit=10)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()

    def pct(p: float) -> float:
        return round(times[min(len(times) - 1, int(p * len(times)))], 2)

    print(
        json.dumps(
            {
                "benchmark": "followups_kb",
                "database": connection.vendor,
                "articles": args.n,
                "queries": len(times),
                "p50_ms": pct(0.5),
                "p95_ms": pct(0.95),
                "p99_ms": pct(0.99),
                "max_ms": round(times[-1], 2),
                "target_p99_ms": 50,
                "load_average": os.getloadavg(),
            },
            ensure_ascii=False,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
