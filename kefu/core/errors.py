"""Errors that services raise and that the API and the web turn into a 4xx with a clear message.

Messages are written in Chinese with gettext, so an English user reads them in English.
"""

from __future__ import annotations


class DomainError(Exception):
    """A request that breaks a business rule: HTTP 400 with `message`."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code


class Forbidden(DomainError):
    """The role or the company does not allow this: HTTP 403."""

    status = 403


class NotFound(DomainError):
    """Nothing visible to this user has that id: HTTP 404 (also for other companies' records)."""

    status = 404


class Conflict(DomainError):
    """Somebody else changed the record meanwhile, or it exists already: HTTP 409."""

    status = 409
