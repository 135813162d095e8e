"""Import page and API (issue 2 items 7, 9, 10): role checks, company scoping, upload checks,
progress fragment, per-line report, column template."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kefu.accounts.models import ApiToken
from kefu.accounts.services import token_create
from kefu.accounts.tests.factories import UserFactory
from kefu.customers.importing.columns import COLUMNS
from kefu.customers.models import Customer, ImportRun
from kefu.customers.tests.test_import import HEADER, LINES

PAGE = "/customers/import/"
API = "/api/v1/imports/"


def csv_upload(lines=LINES, name="客户.csv", encoding="utf-8") -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name, ("\n".join([HEADER, *lines]) + "\n").encode(encoding), content_type="text/csv"
    )


_TOKENS: dict[int, str] = {}


def token(user) -> dict:
    """A read-write API token of `user` (one per user and test database)."""
    if user.pk not in _TOKENS or not ApiToken.objects.filter(user=user).exists():
        _TOKENS[user.pk] = token_create(
            user=user, name="import-test", scopes=[ApiToken.Scope.READ, ApiToken.Scope.WRITE]
        )[1]
    return {"HTTP_AUTHORIZATION": f"Bearer {_TOKENS[user.pk]}"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def manager_x(company_x):
    return UserFactory(company=company_x, role="manager", username="manager_x")


@pytest.fixture
def manager_y(company_y):
    return UserFactory(company=company_y, role="manager", username="manager_y")


def test_agent_cannot_open_or_post_the_page(client, agent_x):
    client.force_login(agent_x)
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, {"file": csv_upload()}).status_code == 403
    assert Customer.objects.count() == 0


def test_page_upload_imports_and_shows_result(client, manager_x):
    client.force_login(manager_x)
    r = client.get(PAGE)
    assert r.status_code == 200 and "下载列模板" in r.content.decode()
    r = client.post(PAGE, {"file": csv_upload(), "dry_run": ""})
    assert r.status_code == 302
    run = ImportRun.objects.get()
    assert r["Location"].endswith(f"?run={run.pk}")
    assert (run.status, run.created_count, run.company_id, run.created_by) == (
        "succeeded",
        3,
        manager_x.company_id,
        manager_x,
    )
    assert Customer.objects.filter(company=manager_x.company).count() == 3
    assert run.file.name == "" and run.original_name == "客户.csv"  # the upload (personal data) is gone
    page = client.get(r["Location"]).content.decode()
    assert "导入成功" in page and "hx-get" not in page  # finished: no more polling


def test_page_dry_run_writes_nothing(client, manager_x):
    client.force_login(manager_x)
    client.post(PAGE, {"file": csv_upload(), "dry_run": "on"})
    run = ImportRun.objects.get()
    assert run.dry_run and run.status == "succeeded" and run.created_count == 3
    assert Customer.objects.count() == 0


def test_page_shows_per_line_report(client, manager_x):
    client.force_login(manager_x)
    client.post(PAGE, {"file": csv_upload([LINES[0], LINES[1].replace("6201235", "abc")])})
    run = ImportRun.objects.get()
    assert run.status == "failed" and run.errors == [
        {"line": 3, "column": "联系电话", "reason": "电话号码“abc”无效。"}
    ]
    html = client.get(f"{PAGE}?run={run.pk}&fragment=1").content.decode()
    assert "电话号码“abc”无效。" in html and "<td>3</td>" in html
    assert Customer.objects.count() == 0


def test_pending_run_is_claimed_once(manager_x):
    from kefu.customers.importing.runs import import_run_create, import_run_process

    run = import_run_create(user=manager_x, upload=csv_upload(), dry_run=True)
    assert import_run_process(run_id=run.pk).status == "succeeded"
    assert import_run_process(run_id=run.pk) is None  # already claimed: a second worker does nothing


def test_running_run_fragment_polls(client, manager_x):
    client.force_login(manager_x)
    run = ImportRun.objects.create(
        company=manager_x.company,
        created_by=manager_x,
        original_name="a.csv",
        file="imports/a.csv",
        status="running",
        total_rows=200,
        processed_rows=50,
    )
    html = client.get(f"{PAGE}?run={run.pk}", HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in html and 'value="25"' in html


def test_page_refuses_wrong_extension(client, manager_x):
    client.force_login(manager_x)
    r = client.post(PAGE, {"file": SimpleUploadedFile("photo.png", b"\x89PNG....")})
    assert r.status_code == 200 and "只能上传 CSV 或 Excel 文件" in r.content.decode()
    assert not ImportRun.objects.exists()


def test_page_refuses_too_big_file(client, manager_x, settings):
    settings.KEFU_IMPORT_MAX_MB = 0
    client.force_login(manager_x)
    r = client.post(PAGE, {"file": csv_upload()})
    assert "文件太大" in r.content.decode() and not ImportRun.objects.exists()


def test_other_company_run_is_not_found(client, manager_x, manager_y):
    client.force_login(manager_x)
    client.post(PAGE, {"file": csv_upload()})
    run = ImportRun.objects.get()
    client.force_login(manager_y)
    assert client.get(f"{PAGE}?run={run.pk}").status_code == 404


def test_column_template_download(client, manager_x):
    client.force_login(manager_x)
    r = client.get(f"{PAGE}?template=csv")
    assert r["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == [c.title for c in COLUMNS] and len(rows) == 2


def test_template_example_line_imports(company_x, tmp_path, client, manager_x):
    client.force_login(manager_x)
    content = client.get(f"{PAGE}?template=csv").content
    client.post(PAGE, {"file": SimpleUploadedFile("template.csv", content)})
    assert ImportRun.objects.get().status == "succeeded"
    assert Customer.objects.filter(company=company_x, account_no=COLUMNS[0].example).exists()


def test_api_import_and_get(client, manager_x):
    r = client.post(API, {"file": csv_upload(), "dry_run": "false"}, **token(manager_x))
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["status"], body["created_count"], body["errors"]) == ("succeeded", 3, [])
    r = client.get(f"{API}{body['id']}", **token(manager_x))
    assert r.status_code == 200 and r.json()["total_rows"] == 3
    assert [x["id"] for x in client.get(API, **token(manager_x)).json()] == [body["id"]]


def test_api_dry_run_with_errors(client, manager_x):
    r = client.post(API, {"file": csv_upload([LINES[0], LINES[0]]), "dry_run": "true"}, **token(manager_x))
    body = r.json()
    assert (body["status"], body["dry_run"], body["error_count"]) == ("failed", True, 1)
    assert body["errors"][0]["line"] == 3 and "第 2 行和第 3 行" in body["errors"][0]["reason"]


def test_api_agent_forbidden(client, agent_x):
    r = client.post(API, {"file": csv_upload()}, **token(agent_x))
    assert r.status_code == 403 and "无权" in r.json()["detail"]
    assert not ImportRun.objects.exists()


def test_api_other_company_run_404(client, manager_x, manager_y):
    run_id = client.post(API, {"file": csv_upload()}, **token(manager_x)).json()["id"]
    r = client.get(f"{API}{run_id}", **token(manager_y))
    assert r.status_code == 404
    assert client.get(API, **token(manager_y)).json() == []


def test_api_missing_file_is_4xx(client, manager_x):
    r = client.post(API, {"dry_run": "true"}, **token(manager_x))
    assert 400 <= r.status_code < 500


def test_api_not_a_spreadsheet(client, manager_x):
    r = client.post(
        API, {"file": SimpleUploadedFile("x.xlsx", b"\x89PNG\r\n\x1a\n" + b"\0" * 50)}, **token(manager_x)
    )
    assert r.status_code == 201
    assert r.json()["status"] == "failed" and "PNG 图片" in r.json()["message"]
