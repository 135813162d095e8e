#!/usr/bin/env python3
"""Traceability: docs/requirements.md, every requirement id of the service standard with the modules
and tests that cite it in a docstring, a comment or a test's name.

    python scripts/requirements_table.py            # rewrite docs/requirements.md
    python scripts/requirements_table.py --check    # exit 1 if docs/requirements.md is not current
    python scripts/requirements_table.py --ids-from ../shared/SPEC.md   # refresh docs/spec_ids.txt
    python scripts/requirements_table.py --audit    # blanket tags and issue numbers in the code

The ids come from docs/spec_ids.txt (checked in, so the repo does not need SPEC.md beside it);
kefu/tests/test_requirements_table.py checks it against SPEC.md where SPEC.md is present.

A citation is an id in a docstring or comment (`C8`, `S2`), a range (`C9–C11` cites C9, C10 and C11)
or an id in a test's name (`test_c1_notice_lead…`). A range over a whole section (`C1–C20`) says
nothing about where a rule lives: it cites nothing and `--audit` lists it, with references to
issue numbers, which belong in commit messages, not in the code.
"""

from __future__ import annotations

import argparse
import ast
import io
import re
import sys
import tokenize
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IDS_FILE = ROOT / "docs" / "spec_ids.txt"
TABLE_FILE = ROOT / "docs" / "requirements.md"
SCANNED = ("kefu", "bench", "conftest.py")
REGENERATE = "python scripts/requirements_table.py"

SECTIONS = {
    "C": "Service commitments (服务承诺)",
    "P": "Processes (流程)",
    "L": "Service language (服务用语)",
    "W": "Workforce (班组管理)",
    "S": "Confidentiality (保密)",
    "K": "Quantified indicators (量化考核)",
}
DASHES = "–—-"
ID_RE = re.compile(r"(?<![\w.])([CPLWSK])(\d{1,2})(?![\w])")
RANGE_RE = re.compile(rf"(?<![\w.])([CPLWSK])(\d{{1,2}})\s*[{DASHES}]\s*([CPLWSK]?)(\d{{1,2}})(?![\w])")
TEST_NAME_RE = re.compile(r"(?:^|_)([cplwsk])(\d{1,2})(?=_|$)")
ISSUE_RE = re.compile(r"\bissues?\s+\d+|(?<![\w&/])#\d+\b", re.IGNORECASE)


# --- the ids -------------------------------------------------------------------------------------


def read_ids(path: Path = IDS_FILE) -> dict[str, str]:
    """id → short title, from docs/spec_ids.txt (`C8<TAB>title`, in the order of SPEC.md)."""
    ids = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            rid, _, title = line.partition("\t")
            ids[rid.strip()] = title.strip()
    return ids


def ids_from_spec(text: str) -> dict[str, str]:
    """id → title from SPEC.md: the first column of each section's table (`| C8 | …`); the K table
    numbers its rows (`| 4 |`, `| 7–9 |`), which are K4, K7, K8, K9."""
    ids: dict[str, str] = {}
    section = None
    for line in text.splitlines():
        heading = re.match(r"^##\s+([A-Z])\.", line)
        if heading:
            section = heading.group(1)
            continue
        if not line.startswith("|") or section is None:
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2:
            continue
        first, title = cells[0], _short(cells[1])
        if re.fullmatch(rf"{section}\d+", first):
            ids[first] = title
        elif section == "K" and re.fullmatch(rf"\d+(?:\s*[{DASHES}]\s*\d+)?", first):
            numbers = [int(n) for n in re.findall(r"\d+", first)]
            for n in range(numbers[0], numbers[-1] + 1):
                ids[f"K{n}"] = title
    return ids


def _short(title: str, limit: int = 70) -> str:
    title = title.replace("**", "")
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


def write_ids(ids: dict[str, str], path: Path = IDS_FILE) -> None:
    header = (
        f"# Requirement ids of ../shared/SPEC.md, short titles (refresh: {REGENERATE} --ids-from SPEC.md)\n"
    )
    path.write_text(header + "".join(f"{rid}\t{title}\n" for rid, title in ids.items()), encoding="utf-8")


# --- the citations -------------------------------------------------------------------------------


@dataclass
class Text:
    """A docstring, comment or test name of a file, with its first line."""

    path: str
    line: int
    text: str
    kind: str  # "docstring", "comment", "test name"


@dataclass
class Scan:
    cited: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # id → paths
    blanket: list[tuple[str, int, str]] = field(default_factory=list)
    issues: list[tuple[str, int, str]] = field(default_factory=list)


def python_files(root: Path = ROOT) -> list[Path]:
    files = []
    for name in SCANNED:
        path = root / name
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files.extend(p for p in path.rglob("*.py") if "migrations" not in p.parts)
    return sorted(files)


def texts_of(path: Path, root: Path = ROOT) -> list[Text]:
    source = path.read_text(encoding="utf-8")
    rel = path.relative_to(root).as_posix()
    texts = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            texts.append(Text(rel, token.start[0], token.string.lstrip("#"), "comment"))
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                if isinstance(body[0].value.value, str):
                    texts.append(Text(rel, body[0].lineno, body[0].value.value, "docstring"))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_"):
            texts.append(Text(rel, node.lineno, node.name, "test name"))
    return texts


def scan(known: dict[str, str], root: Path = ROOT) -> Scan:
    result = Scan()
    last_of_section = defaultdict(int)
    for rid in known:
        last_of_section[rid[0]] = max(last_of_section[rid[0]], int(rid[1:]))
    for path in python_files(root):
        for text in texts_of(path, root):
            if text.kind == "test name":
                for letter, number in TEST_NAME_RE.findall(text.text):
                    _cite(result, known, f"{letter.upper()}{int(number)}", text.path)
                continue
            body = text.text
            for match in RANGE_RE.finditer(body):
                letter, first, letter2, last = match.groups()
                if letter2 and letter2 != letter:
                    continue
                first, last = int(first), int(last)
                if first == 1 and last >= last_of_section[letter] > 2:
                    result.blanket.append((text.path, _line_of(text, match.start()), match.group(0)))
                else:
                    for n in range(first, last + 1):
                        _cite(result, known, f"{letter}{n}", text.path)
            for letter, number in ID_RE.findall(RANGE_RE.sub(" ", body)):
                _cite(result, known, f"{letter}{int(number)}", text.path)
            for match in ISSUE_RE.finditer(body):
                result.issues.append((text.path, _line_of(text, match.start()), match.group(0)))
    return result


def _cite(result: Scan, known: dict[str, str], rid: str, path: str) -> None:
    if rid in known:
        result.cited[rid].add(path)


def _line_of(text: Text, offset: int) -> int:
    return text.line + text.text.count("\n", 0, offset)


# --- the table -----------------------------------------------------------------------------------


def is_test(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return "/tests/" in f"/{path}" or name.startswith("test_") or name == "conftest.py"


def render(known: dict[str, str], result: Scan) -> str:
    lines = [
        "# Requirements and where they are implemented",
        "",
        "Generated from the code by `scripts/requirements_table.py`: every requirement id of the service",
        "standard (`../shared/SPEC.md`, ids kept in `docs/spec_ids.txt`) with the modules and tests that",
        "cite it in a docstring, a comment or a test's name. Do not edit by hand: after changing citations,",
        "run",
        f"`{REGENERATE}` (a test fails while this file is not current).",
        "",
    ]
    cited = sum(1 for rid in known if result.cited.get(rid))
    lines += [f"{cited} of {len(known)} requirements are cited in the code.", ""]
    for letter, section in SECTIONS.items():
        rids = [rid for rid in known if rid[0] == letter]
        if not rids:
            continue
        lines += [f"## {letter}. {section}", "", "| id | requirement | code | tests |", "|---|---|---|---|"]
        for rid in rids:
            paths = sorted(result.cited.get(rid, ()))
            code = "<br>".join(f"`{p}`" for p in paths if not is_test(p)) or "—"
            tests = "<br>".join(f"`{p}`" for p in paths if is_test(p)) or "—"
            title = known[rid].replace("|", "\\|")
            lines.append(f"| {rid} | {title} | {code} | {tests} |")
        lines.append("")
    return "\n".join(lines)


def audit(result: Scan) -> str:
    out = [f"Blanket tags (a range over a whole section): {len(result.blanket)}"]
    out += [f"  {p}:{n}: {t}" for p, n, t in sorted(result.blanket)]
    out.append(f"References to issue numbers: {len(result.issues)}")
    out += [f"  {p}:{n}: {t}" for p, n, t in sorted(result.issues)]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/requirements.md is not current")
    parser.add_argument("--ids-from", metavar="SPEC.md", help="refresh docs/spec_ids.txt from SPEC.md first")
    parser.add_argument("--audit", action="store_true", help="list blanket tags and issue references")
    args = parser.parse_args(argv)
    if args.ids_from:
        write_ids(ids_from_spec(Path(args.ids_from).read_text(encoding="utf-8")))
    known = read_ids()
    result = scan(known)
    if args.audit:
        print(audit(result))
        return 0
    table = render(known, result)
    if args.check:
        current = TABLE_FILE.read_text(encoding="utf-8") if TABLE_FILE.exists() else ""
        if current != table:
            print(f"docs/requirements.md is not current: run `{REGENERATE}`", file=sys.stderr)
            return 1
        return 0
    TABLE_FILE.write_text(table, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
