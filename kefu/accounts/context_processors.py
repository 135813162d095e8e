"""Template context for the web shell: the user's permissions, for menus that show only what the
role may use."""

from __future__ import annotations

from kefu.accounts.roles import ROLE_PERMISSIONS


def kefu_shell(request) -> dict:
    user = getattr(request, "user", None)
    perms = (
        ROLE_PERMISSIONS.get(getattr(user, "role", ""), frozenset())
        if user and user.is_authenticated
        else frozenset()
    )
    return {"kefu_perms": perms}
