"""Opening work-order attachments (issue 3 §4, S2): only for those who may see the work order, 404
for everyone else without revealing that the file exists, the right content type and disposition
(RFC 5987 names), no sniffing, every opening in the audit log, and no public URL to the files."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import Resolver404, resolve

from kefu.accounts.audit import Action
from kefu.accounts.models import AuditEvent
from kefu.tickets import services
from kefu.tickets.downloads import content_disposition
from kefu.tickets.services.timeline import ticket_attachment_open

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%%EOF\n"
DOCX = b"PK\x03\x04" + b"\x00" * 32


def login(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def ticket(make_ticket):
    return make_ticket(kind="repair", content="厨房闻到燃气味", address="幸福小区3号楼2单元501室")


def attach(ticket, by, name: str, data: bytes, content_type: str):
    return services.ticket_add_attachment(
        ticket_id=ticket.pk, by=by, upload=SimpleUploadedFile(name, data, content_type=content_type)
    )


def url(att) -> str:
    return f"/tickets/{att.ticket_id}/attachments/{att.pk}/"


def api_url(att) -> str:
    return f"/api/v1/tickets/{att.ticket_id}/attachments/{att.pk}"


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def _without_csrf(response) -> str:
    """The page without what differs per request anyway (CSRF token, own path in the language form)."""
    html = response.content.decode().replace(response.request["PATH_INFO"], "")
    return re.sub(r'(csrfmiddlewaretoken" value="|X-CSRFToken": ")[^"]+', "", html)


def views_logged(att) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=Action.ATTACHMENT_VIEWED, object_id=str(att.pk)))


# --- What is sent -----------------------------------------------------------------------------------


def test_owner_opens_a_photo_inline_with_its_chinese_name(media, agent_x, ticket):
    att = attach(ticket, agent_x, "现场照片.png", PNG, "image/png")
    r = login(agent_x).get(url(att))
    assert r.status_code == 200
    assert body(r) == PNG
    assert r["Content-Type"] == "image/png"
    assert r["Content-Disposition"] == (
        f"inline; filename=\"attachment-{att.pk}.png\"; filename*=UTF-8''{quote('现场照片.png')}"
    )
    assert r["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in r["Cache-Control"] and "private" in r["Cache-Control"]
    assert "sandbox" in r["Content-Security-Policy"]


def test_pdf_inline_office_files_and_text_as_downloads(media, agent_x, ticket):
    c = login(agent_x)
    pdf = attach(ticket, agent_x, "report 1.pdf", PDF, "application/pdf")
    r = c.get(url(pdf))
    assert r["Content-Type"] == "application/pdf"
    assert r["Content-Disposition"] == "inline; filename=\"report 1.pdf\"; filename*=UTF-8''report%201.pdf"
    assert "Content-Security-Policy" not in r  # a sandbox would stop the browser's PDF viewer
    docx = attach(ticket, agent_x, "身份证复印件.docx", DOCX, "application/octet-stream")
    r = c.get(url(docx))
    assert r["Content-Type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert r["Content-Disposition"].startswith(
        f"attachment; filename=\"attachment-{docx.pk}.docx\"; filename*=UTF-8''"
    )
    txt = attach(ticket, agent_x, "说明.txt", "燃气表读数 1234".encode(), "text/plain")
    r = c.get(url(txt))
    assert r["Content-Type"] == "text/plain" and r["Content-Disposition"].startswith("attachment;")
    assert body(r) == "燃气表读数 1234".encode()


@pytest.mark.parametrize(
    "name, ascii_part, encoded",
    [
        ("现场.png", 'filename="f.png"', "filename*=UTF-8''%E7%8E%B0%E5%9C%BA.png"),
        ('a"b\\c.txt', 'filename="abc.txt"', "filename*=UTF-8''abc.txt"),
        ("x\r\nSet-Cookie: a=b.txt", 'filename="f.png"', "filename*=UTF-8''xSet-Cookie%3A%20a%3Db.txt"),
        ("../../etc/passwd", 'filename="f.png"', "filename*=UTF-8''....etcpasswd"),
        ("plain-name_1.pdf", 'filename="plain-name_1.pdf"', "filename*=UTF-8''plain-name_1.pdf"),
        ("", 'filename="f.png"', "filename*=UTF-8''f.png"),
    ],
)
def test_content_disposition_is_safe(name, ascii_part, encoded):
    header = content_disposition(name, inline=False, fallback="f.png")
    assert header == f"attachment; {ascii_part}; {encoded}"
    assert "\r" not in header and "\n" not in header


def test_every_opening_is_audited_and_the_page_fetches_nothing_by_itself(media, agent_x, agent2_x, ticket):
    att = attach(ticket, agent_x, "现场照片.png", PNG, "image/png")
    c = login(agent2_x)
    page = c.get(f"/tickets/{ticket.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert url(att) in html and "现场照片.png" in html and "显示图片" in html
    assert f' src="{url(att)}"' not in html  # thumbnails load on request: each one is an audited download
    assert views_logged(att) == []
    c.get(url(att))
    login(agent2_x).get(api_url(att))
    rows = views_logged(att)
    assert len(rows) == 2
    row = rows[0]
    assert row.actor == agent2_x and row.company_id == ticket.company_id
    assert row.object_type == "tickets.attachment" and row.object_repr == f"{ticket.number} / 现场照片.png"
    assert row.detail == {
        "ticket_id": ticket.pk,
        "ticket": ticket.number,
        "name": "现场照片.png",
        "content_type": "image/png",
        "size": len(PNG),
    }


def test_api_download(media, agent_x, ticket):
    att = attach(ticket, agent_x, "现场.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 20, "image/jpeg")
    r = login(agent_x).get(api_url(att))
    assert r.status_code == 200 and r["Content-Type"] == "image/jpeg"
    assert r["Content-Disposition"].startswith("inline;") and r["X-Content-Type-Options"] == "nosniff"
    assert body(r).startswith(b"\xff\xd8\xff")


def test_api_download_with_a_read_only_token(media, agent_x, ticket):
    """What a telephony or portal integration uses: a bearer token with the read scope."""
    from kefu.accounts.models import ApiToken
    from kefu.accounts.services import token_create

    att = attach(ticket, agent_x, "现场.pdf", PDF, "application/pdf")
    raw = token_create(user=agent_x, name="portal", scopes=[ApiToken.Scope.READ])[1]
    r = Client().get(api_url(att), headers={"Authorization": f"Bearer {raw}"})
    assert r.status_code == 200 and body(r) == PDF
    row = views_logged(att)[0]
    assert row.actor == agent_x


def test_openapi_describes_the_file(client):
    spec = client.get("/api/v1/openapi.json").json()
    op = spec["paths"]["/api/v1/tickets/{ticket_id}/attachments/{attachment_id}"]["get"]
    assert "image/png" in op["responses"]["200"]["content"] and "404" in op["responses"]


# --- Who may open it -------------------------------------------------------------------------------


def test_other_company_gets_the_same_404_as_for_nothing(media, agent_x, agent_y, ticket):
    att = attach(ticket, agent_x, "身份证.png", PNG, "image/png")
    c = login(agent_y)
    real_web, none_web = c.get(url(att)), c.get(f"/tickets/{ticket.pk}/attachments/{att.pk + 1000}/")
    assert real_web.status_code == none_web.status_code == 404
    assert _without_csrf(real_web) == _without_csrf(none_web)
    assert "没有找到该附件，或您无权查看。" in real_web.content.decode()
    real_api, none_api = (
        c.get(api_url(att)),
        c.get(f"/api/v1/tickets/{ticket.pk}/attachments/{att.pk + 1000}"),
    )
    assert real_api.status_code == none_api.status_code == 404
    assert (
        real_api.json()
        == none_api.json()
        == {"detail": "没有找到该附件，或您无权查看。", "code": "not_found"}
    )
    assert views_logged(att) == []


def test_technician_only_on_own_work_orders(media, agent_x, technician_x, technician2_x, ticket):
    att = attach(ticket, agent_x, "现场.png", PNG, "image/png")
    assert login(technician_x).get(url(att)).status_code == 404  # not assigned to them (yet)
    services.ticket_assign(ticket_id=ticket.pk, by=agent_x, version=ticket.version, user_id=technician_x.pk)
    assert login(technician_x).get(url(att)).status_code == 200
    assert login(technician_x).get(api_url(att)).status_code == 200
    assert login(technician2_x).get(url(att)).status_code == 404
    assert login(technician2_x).get(api_url(att)).status_code == 404


def test_attachment_must_belong_to_the_work_order_in_the_url(media, agent_x, ticket, make_ticket):
    att = attach(ticket, agent_x, "现场.png", PNG, "image/png")
    other = make_ticket()
    c = login(agent_x)
    assert c.get(f"/tickets/{other.pk}/attachments/{att.pk}/").status_code == 404
    assert c.get(f"/api/v1/tickets/{other.pk}/attachments/{att.pk}").status_code == 404
    huge = 10**30
    assert c.get(f"/tickets/{huge}/attachments/{huge}/").status_code == 404
    assert c.get(f"/api/v1/tickets/{huge}/attachments/{huge}").status_code in (400, 404)


def test_not_logged_in(media, agent_x, ticket):
    att = attach(ticket, agent_x, "现场.png", PNG, "image/png")
    r = Client().get(url(att))
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]
    assert Client().get(api_url(att)).status_code == 401
    with pytest.raises(Exception):
        ticket_attachment_open(ticket_id=ticket.pk, attachment_id=att.pk, by=None)


def test_group_reader_of_a_sister_company_sees_names_but_cannot_open(media, agent_x, ticket):
    """A group-level reader may see a sister company's work order page; its files stay in that company."""
    from kefu.accounts.models import CompanyGroup
    from kefu.accounts.tests.factories import CompanyFactory, UserFactory

    att = attach(ticket, agent_x, "现场.png", PNG, "image/png")
    company = ticket.company
    group = CompanyGroup.objects.create(code="grp", name="集团")
    company.group = group
    company.save(update_fields=["group"])
    sister = CompanyFactory(code="z", name="Z市燃气有限公司", short_name="Z燃气", group=group)
    reader = UserFactory(company=sister, role="manager", username="group_reader", group_reader=True)
    page = login(reader).get(f"/tickets/{ticket.pk}/")
    assert page.status_code == 200 and "现场.png" in page.content.decode()
    assert url(att) not in page.content.decode()
    assert login(reader).get(url(att)).status_code == 404


def test_missing_file_is_a_404_not_a_crash(media, agent_x, ticket):
    att = attach(ticket, agent_x, "现场.png", PNG, "image/png")
    att.file.storage.delete(att.file.name)
    r = login(agent_x).get(api_url(att))
    assert r.status_code == 404 and r.json()["code"] == "file_missing"
    assert login(agent_x).get(url(att)).status_code == 404
    assert views_logged(att) == []


# --- No public URL ----------------------------------------------------------------------------------


def test_stored_files_have_no_public_url(media, agent_x, ticket, settings):
    att = attach(ticket, agent_x, "现场.png", PNG, "image/png")
    assert (media / att.file.name).exists()
    public = f"/{settings.MEDIA_URL.strip('/')}/{att.file.name}"
    with pytest.raises(Resolver404):
        resolve(public)
    assert login(agent_x).get(public).status_code == 404
    assert Client().get(public).status_code == 404


# --- In the browser -----------------------------------------------------------------------------------


def _tiny_png() -> bytes:
    """A real 1×1 PNG, so the browser can draw it."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_upload_then_show_the_photo_in_the_browser(browser, live_server, media, agent_x, make_ticket):
    """Upload a photo on the work-order page, show its thumbnail on request (it must render despite
    nosniff and the sandbox policy), and open the file link with its headers."""
    from kefu.accounts.tests.factories import TEST_PASSWORD

    t = make_ticket(kind="repair", content="厨房闻到燃气味", address="幸福小区3号楼2单元501室")
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", agent_x.username)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/tickets/{t.pk}/")
    page.set_input_files(
        "input[type=file][name=file]",
        files=[{"name": "现场照片.png", "mimeType": "image/png", "buffer": _tiny_png()}],
    )
    page.click("text=上传附件")
    page.wait_for_selector("#timeline li[data-kind=attachment] .att-link")
    link = page.locator("#timeline li[data-kind=attachment] .att-link")
    assert link.inner_text() == "现场照片.png"
    assert page.locator("img.att-thumb[src]").count() == 0  # nothing fetched yet
    page.locator("#timeline li[data-kind=attachment] .att-preview").click()
    page.wait_for_function(
        "() => { const i = document.querySelector('#timeline img.att-thumb');"
        " return i && i.complete && i.naturalWidth === 1; }"
    )
    r = page.request.get(f"{live_server.url}{link.get_attribute('href')}")
    assert r.status == 200 and r.headers["content-type"] == "image/png"
    assert r.headers["content-disposition"].startswith("inline;") and r.body() == _tiny_png()
    ctx.close()
    assert AuditEvent.objects.filter(action=Action.ATTACHMENT_VIEWED, actor=agent_x).count() == 2
