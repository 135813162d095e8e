"""docs/user-guide.md's "who sees what" table says the same as roles.ROLE_PERMISSIONS (S2)."""

from __future__ import annotations

from pathlib import Path

from kefu.accounts.roles import ROLE_PERMISSIONS, Perm, Role

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "user-guide.md"
COLUMNS = (Perm.CUSTOMER_VIEW, Perm.CUSTOMER_VIEW_UNMASKED, Perm.CUSTOMER_EDIT, Perm.CARE_EDIT)


def _table() -> dict[str, list[bool]]:
    rows: dict[str, list[bool]] = {}
    in_table = False
    for line in GUIDE.read_text(encoding="utf-8").splitlines():
        if line.startswith("| 角色 | 查询客户"):
            in_table = True
            continue
        if in_table and not line.startswith("|"):
            break
        if in_table and not line.startswith("|---"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[0]] = [c.startswith("可以") for c in cells[1:]]
    return rows


def test_guide_table_matches_role_permissions():
    table = _table()
    labels = {str(r.label): r.value for r in Role}
    seen = set()
    for names, allowed in table.items():
        for name in names.replace("、", " ").replace("/", " ").replace("，", " ").split():
            role = next(
                (
                    v
                    for label, v in labels.items()
                    if name in label.split("/") or name == label or name in label
                ),
                None,
            )
            assert role is not None, name
            seen.add(role)
            expected = [perm in ROLE_PERMISSIONS[role] for perm in COLUMNS]
            assert allowed == expected, (name, allowed, expected)
    assert seen == set(Role.values)
