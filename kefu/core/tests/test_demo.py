"""The kernel's demo registry and `kefu demo`: apps register their steps, the command runs them in
order, and the kernel imports no other kefu app (ARCHITECTURE: layers)."""

from __future__ import annotations

import ast
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from kefu.core import demo
from kefu.core.demo import DemoRun, demo_steps, register_demo_step, run_demo_steps

CORE = Path(demo.__file__).parent


def test_apps_register_their_steps_in_order():
    steps = [(s.order, s.name) for s in demo_steps()]
    assert steps == sorted(steps)
    known = [(10, "customers"), (20, "sla"), (30, "tickets")]
    assert [s for s in steps if s in known] == known  # other apps' steps may sit in between
    assert {"workforce", "telephony", "followups", "outages", "field", "quality", "kpi", "counter"} <= {
        name for _order, name in steps
    }


def test_steps_run_in_order_and_stop_when_the_demo_exists(monkeypatch):
    monkeypatch.setattr(demo, "_steps", {})
    seen: list[str] = []

    def step(name: str, *, built: bool = True):
        def run(r: DemoRun) -> None:
            seen.append(name)
            r.built = built

        return run

    register_demo_step(30, "c", step("c"))
    register_demo_step(10, "a", step("a"))
    register_demo_step(20, "b", step("b"))
    run_demo_steps(DemoRun(options={}))
    assert seen == ["a", "b", "c"]
    seen.clear()
    register_demo_step(10, "a", step("a", built=False))  # replaced by name: the demo is already there
    assert not run_demo_steps(DemoRun(options={})).built
    assert seen == ["a"]


def test_the_kernel_imports_no_other_kefu_app():
    for path in CORE.rglob("*.py"):
        if "tests" in path.relative_to(CORE).parts:  # a test sits above what it tests (docs/decisions.md)
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith("kefu.") or name.startswith("kefu.core"), (path, name)


@pytest.mark.django_db
def test_negative_customers_is_refused_and_builds_nothing():
    from django.apps import apps

    err = StringIO()
    call_command("demo", customers=-1, stdout=StringIO(), stderr=err)
    assert "客户数量不能为负数" in err.getvalue()
    assert not apps.get_model("accounts", "Company").objects.exists()
