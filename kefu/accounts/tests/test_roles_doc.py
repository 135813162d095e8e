"""docs/roles.md and roles.py cannot drift apart: the table is parsed and compared
cell by cell with ROLE_PERMISSIONS and PERMISSION_LABELS."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

from kefu.accounts.roles import PERMISSION_LABELS, ROLE_PERMISSIONS, Role, all_permissions

DOC = Path(settings.BASE_DIR) / "docs" / "roles.md"


def _permission_table() -> tuple[list[str], dict[str, tuple[str, set[str]]]]:
    """(role codes in column order, {permission: (description, roles with ✓)})."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| 权限代码 |"))
    header = [c.strip() for c in lines[start].strip("|").split("|")]
    roles = [re.search(r"`([a-z_]+)`", c).group(1) for c in header[2:]]
    rows: dict[str, tuple[str, set[str]]] = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        assert len(cells) == len(header), line
        code = cells[0].strip("`")
        assert code not in rows, f"duplicate row {code}"
        marks = cells[2:]
        assert set(marks) <= {"✓", ""}, line
        rows[code] = (cells[1], {role for role, mark in zip(roles, marks) if mark == "✓"})
    return roles, rows


def test_table_lists_every_role_once():
    roles, _rows = _permission_table()
    assert sorted(roles) == sorted(Role.values) and len(roles) == len(set(roles))


def test_table_equals_role_permissions():
    _roles, rows = _permission_table()
    assert set(rows) == set(all_permissions())
    for perm, (_label, granted) in rows.items():
        expected = {role for role, perms in ROLE_PERMISSIONS.items() if perm in perms}
        assert granted == expected, perm


def test_every_permission_has_its_chinese_description():
    _roles, rows = _permission_table()
    for perm, (label, _granted) in rows.items():
        assert label == PERMISSION_LABELS[perm]
        assert any("\u4e00" <= c <= "\u9fff" for c in label)


def test_separation_of_duties():
    """三权分立: the administrator manages accounts and cannot read the audit log; the auditor reads it
    and manages nothing."""
    assert (
        "audit.view" not in ROLE_PERMISSIONS[Role.ADMIN]
        and "audit.export" not in ROLE_PERMISSIONS[Role.ADMIN]
    )
    assert "account.manage" not in ROLE_PERMISSIONS[Role.AUDITOR]
    assert {r for r, p in ROLE_PERMISSIONS.items() if "account.manage" in p} == {Role.ADMIN}
    assert {r for r, p in ROLE_PERMISSIONS.items() if "audit.view" in p} == {Role.AUDITOR}
