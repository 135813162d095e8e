"""The English translation of the UI is complete, compiled and served.

The product speaks Simplified Chinese first (source strings are Chinese inside gettext); English
must be complete. These tests fail when someone adds a user-facing string without translating it,
edits the .po without recompiling the .mo, or breaks language selection.
"""

from __future__ import annotations

import ast
import gettext
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

LOCALE_DIR = Path(settings.BASE_DIR) / "kefu" / "locale"
PO_PATH = LOCALE_DIR / "en" / "LC_MESSAGES" / "django.po"
MO_PATH = LOCALE_DIR / "en" / "LC_MESSAGES" / "django.mo"
# The same exclusions as the documented `makemessages` command (docs: kefu/locale).
MAKEMESSAGES_IGNORE = [".venv", "var", "bench", "*/tests/*"]
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
PLACEHOLDER = re.compile(r"%\([A-Za-z_]\w*\)[-+ #0]*\d*(?:\.\d+)?[sdfi]|%[sdfi]")


@dataclass
class PoEntry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: str = ""
    msgstr_plural: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def key(self) -> str:
        """The catalogue key gettext uses (context joined with EOT)."""
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}\x04{self.msgid}"

    @property
    def translations(self) -> list[str]:
        if self.msgid_plural is None:
            return [self.msgstr]
        return [self.msgstr_plural[k] for k in sorted(self.msgstr_plural)]


_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")\s*$')


def parse_po(path: Path) -> list[PoEntry]:
    """A small .po reader (polib is not a dependency): active entries only, header excluded."""
    entries: list[PoEntry] = []
    entry: PoEntry | None = None
    target: tuple[str, int | None] | None = None

    def finish() -> None:
        if entry is not None and (entry.msgid or entry.msgctxt is not None):
            entries.append(entry)

    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            entry, target = None, None
            continue
        if line.startswith("#~"):  # obsolete entry: ignored by msgfmt
            continue
        if entry is None:
            entry = PoEntry(line=lineno)
        if line.startswith("#,"):
            entry.flags |= {f.strip() for f in line[2:].split(",") if f.strip()}
            continue
        if line.startswith("#"):
            continue
        m = _KEYWORD.match(line)
        if m:
            keyword, index, text = m.group(1), m.group(2), ast.literal_eval(m.group(3))
            if keyword == "msgctxt":
                entry.msgctxt, target = text, ("msgctxt", None)
            elif keyword == "msgid":
                entry.msgid, target = text, ("msgid", None)
            elif keyword == "msgid_plural":
                entry.msgid_plural, target = text, ("msgid_plural", None)
            elif index is not None:
                entry.msgstr_plural[int(index)], target = text, ("msgstr_plural", int(index))
            else:
                entry.msgstr, target = text, ("msgstr", None)
            continue
        if line.startswith('"') and target is not None:
            text = ast.literal_eval(line)
            name, index = target
            if name == "msgstr_plural":
                entry.msgstr_plural[index] += text
            else:
                setattr(entry, name, (getattr(entry, name) or "") + text)
            continue
        raise AssertionError(f"{path}:{lineno}: cannot parse {raw!r}")
    finish()
    return entries


@pytest.fixture(scope="module")
def po_entries() -> list[PoEntry]:
    assert PO_PATH.exists(), f"{PO_PATH} is missing: run makemessages -l en (see module docstring)"
    return parse_po(PO_PATH)


def test_po_has_entries(po_entries):
    # Guards the parser itself: an empty result would make the other tests pass vacuously.
    assert len(po_entries) > 500
    assert any(e.msgid == "工单" for e in po_entries)


def test_every_entry_translated_and_not_fuzzy(po_entries):
    untranslated = [e.msgid for e in po_entries if not all(t.strip() for t in e.translations)]
    fuzzy = [e.msgid for e in po_entries if "fuzzy" in e.flags]
    plural_gaps = [
        e.msgid for e in po_entries if e.msgid_plural is not None and sorted(e.msgstr_plural) != [0, 1]
    ]
    assert not untranslated, f"{len(untranslated)} untranslated entries, e.g. {untranslated[:10]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy entries (check and remove the flag), e.g. {fuzzy[:10]}"
    assert not plural_gaps, f"English needs msgstr[0] and msgstr[1]: {plural_gaps[:10]}"


def test_no_chinese_left_in_translations(po_entries):
    """An English msgstr may quote Chinese only where the user must type those exact values
    (accepted column names and values of the customer import file, address examples)."""
    allowed = re.compile(
        r"正常|停用|销户|IC卡表|智能表|机械表|户号|户名|客户类别|详细地址|小区\+楼号\+室号|"
        r"幸福小区3-2-501|3号楼2单元501|3栋2单元501室|张 3-2-501|国办发明电〔2026〕×号"
    )
    leftovers = [(e.msgid, t) for e in po_entries for t in e.translations if CJK.search(allowed.sub("", t))]
    assert not leftovers, f"Chinese text in English translations: {leftovers[:10]}"


def test_placeholders_kept(po_entries):
    def spots(s: str) -> list[str]:
        return sorted(PLACEHOLDER.findall(s))

    wrong = []
    for e in po_entries:
        sources = [e.msgid] if e.msgid_plural is None else [e.msgid, e.msgid_plural]
        for i, t in enumerate(e.translations):
            src = sources[min(i, len(sources) - 1)]
            if spots(src) != spots(t):
                wrong.append((e.msgid, t))
    assert not wrong, f"placeholders differ between msgid and msgstr: {wrong[:10]}"


def test_committed_mo_matches_po(po_entries):
    """The compiled .mo (what production runs) holds exactly the .po's translations."""
    assert MO_PATH.exists(), "django.mo is missing: run compilemessages and commit the .mo"
    with MO_PATH.open("rb") as fh:
        mo = gettext.GNUTranslations(fh)
    expected: dict[object, str] = {}
    for e in po_entries:
        if e.msgid_plural is None:
            expected[e.key] = e.msgstr
        else:
            for i, t in e.msgstr_plural.items():
                expected[(e.key, i)] = t
    catalog = {k: v for k, v in mo._catalog.items() if k != ""}  # "" is the header
    stale = sorted(str(k) for k in expected if catalog.get(k) != expected[k])
    extra = sorted(str(k) for k in catalog if k not in expected)
    assert not stale, f".mo is out of date for {len(stale)} entries (run compilemessages), e.g. {stale[:5]}"
    assert not extra, f".mo has entries the .po no longer has (run compilemessages), e.g. {extra[:5]}"
    # gettext's own plural rule from the header picks the right form.
    plural = next(e for e in po_entries if e.msgid_plural is not None)
    assert mo.ngettext(plural.msgid, plural.msgid_plural, 1) == plural.msgstr_plural[0]
    assert mo.ngettext(plural.msgid, plural.msgid_plural, 5) == plural.msgstr_plural[1]


def _copy_sources(dst: Path) -> None:
    root = Path(settings.BASE_DIR)
    shutil.copy2(root / "manage.py", dst / "manage.py")
    shutil.copytree(
        root / "kefu",
        dst / "kefu",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "locale", "tests", "media", "node_modules"),
    )


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="xgettext (GNU gettext) is not installed")
def test_makemessages_finds_nothing_untranslated(tmp_path, po_entries):
    """Extracting the strings afresh from a copy of the sources finds no msgid missing from the
    committed .po, so a string added without a translation fails here."""
    work = tmp_path / "src"
    work.mkdir()
    _copy_sources(work)
    env = {
        **os.environ,
        "KEFU_SECRET_KEY": "i18n-test",
        "KEFU_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "kefu.settings",
        "PYTHONPATH": str(work),
    }
    env.pop("KEFU_PRODUCTION", None)
    (tmp_path / "var").mkdir()
    ignores = [f"--ignore={p}" for p in MAKEMESSAGES_IGNORE]
    # settings.BASE_DIR of the copy is `work`, so LOCALE_PATHS (and the new .po) land inside the copy.
    cmd = [sys.executable, "manage.py", "makemessages", "-l", "en", *ignores]
    result = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    fresh_po = work / "kefu" / "locale" / "en" / "LC_MESSAGES" / "django.po"
    assert fresh_po.exists(), f"makemessages wrote no .po where expected: {result.stdout}{result.stderr}"
    fresh = {e.key: e for e in parse_po(fresh_po)}
    committed = {e.key for e in po_entries}
    missing = sorted(k for k in fresh if k not in committed)
    assert not missing, (
        f"{len(missing)} strings are not in kefu/locale/en/LC_MESSAGES/django.po; run makemessages -l en, "
        f"translate them and compilemessages: {missing[:15]}"
    )
    assert len(fresh) > 500


def _assert_english_login(content: str) -> None:
    assert 'lang="en"' in content
    assert "Log in to kefu customer service" in content
    assert "登录 kefu 客服" not in content
    # Every visible string is translated; the only Chinese left is the language's own name in the switcher.
    visible = content.replace("简体中文", "")
    assert not CJK.search(visible), f"Chinese left on the English login page: {CJK.findall(visible)[:20]}"


@pytest.mark.django_db
def test_login_page_in_english_by_accept_language(client):
    response = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.status_code == 200
    _assert_english_login(response.content.decode())


@pytest.mark.django_db
def test_login_page_in_english_by_cookie(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert response.status_code == 200
    _assert_english_login(response.content.decode())


@pytest.mark.django_db
def test_login_page_in_chinese_by_default_and_by_cookie(client):
    default = client.get(reverse("accounts:login")).content.decode()
    assert 'lang="zh-hans"' in default
    assert "登录 kefu 客服" in default
    assert "Log in to kefu customer service" not in default

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    chosen = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'lang="zh-hans"' in chosen
    assert "请使用本人工号登录，不得使用他人账号。" in chosen


@pytest.mark.django_db
def test_language_switcher_sets_english(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("accounts:login")})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    page = client.get(reverse("accounts:login")).content.decode()
    _assert_english_login(page)


@pytest.mark.django_db
def test_wrong_password_message_in_english(client, agent_x):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(
        reverse("accounts:login"), {"username": agent_x.username, "password": "wrong-Password-1"}
    )
    content = response.content.decode()
    assert "Wrong employee number or password." in content
    assert "工号或密码错误" not in content
