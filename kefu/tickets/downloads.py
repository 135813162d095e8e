"""The HTTP answer that streams a work-order attachment (web page and API alike; S2).

The file is read from storage by `ticket_attachment_open` (which checks visibility and writes the
audit row) and streamed in chunks. Files are never reachable under a public URL: MEDIA_ROOT has no
route (kefu/urls.py) and must not be served by the reverse proxy (docs/tickets.md).
"""

from __future__ import annotations

import os
import re
import unicodedata
from typing import IO
from urllib.parse import quote

from django.http import FileResponse

from kefu.tickets.models import Attachment
from kefu.tickets.services.timeline import INLINE_TYPES

_ASCII_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]*$")


def content_disposition(name: str, *, inline: bool, fallback: str) -> str:
    """`inline|attachment; filename="<ASCII>"; filename*=UTF-8''<percent-encoded>` (RFC 6266, RFC 5987).

    The UTF-8 form carries the real (e.g. Chinese) name; the quoted ASCII form is for old clients:
    the name itself when it is plain ASCII, otherwise `fallback` (e.g. `attachment-12.png`). Control
    characters, quotes, backslashes and path separators never reach the header."""
    clean = (
        "".join(
            ch
            for ch in unicodedata.normalize("NFC", name or "")
            if unicodedata.category(ch)[0] != "C" and ch not in '"\\/'
        ).strip()[:200]
        or fallback
    )
    ascii_name = clean if _ASCII_SAFE.match(clean) else fallback
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(clean, safe='')}"


def attachment_response(att: Attachment, handle: IO[bytes]) -> FileResponse:
    """Stream an opened attachment: its stored (checked) content type, inline for images and PDF,
    a download otherwise, no MIME sniffing, no caching of personal data by proxies or the browser."""
    inline = att.content_type in INLINE_TYPES
    ext = os.path.splitext(att.original_name or "")[1].lower()
    ext = ext if re.fullmatch(r"\.[a-z0-9]{1,8}", ext) else ""
    response = FileResponse(handle, content_type=att.content_type)
    response["Content-Disposition"] = content_disposition(
        att.original_name, inline=inline, fallback=f"attachment-{att.pk}{ext}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    if att.content_type.startswith("image/"):
        # An image opened on its own is a document of our origin: give it no power (no scripts, no
        # same-origin access). Not for PDF — browsers' PDF viewers refuse to run in a sandbox.
        response["Content-Security-Policy"] = (
            "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
        )
    return response
