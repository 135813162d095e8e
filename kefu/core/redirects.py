"""Where a form may send the browser next: only a path on this site (no open redirect)."""

from __future__ import annotations

from django.utils.http import url_has_allowed_host_and_scheme


def same_site_path(target: str | None, fallback: str) -> str:
    """`target` if it is a path on this site ("/tickets/12/"), else `fallback`. Absolute URLs, even to
    this host, scheme-relative "//evil.example", backslash tricks and control characters are refused
    (Django's url_has_allowed_host_and_scheme with no allowed host)."""
    target = (target or "").strip()
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        return target
    return fallback
