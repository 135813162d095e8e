from kefu.notify.selectors import unread_count


def notifications(request) -> dict:
    """The unread badge in the top bar (one indexed COUNT per page)."""
    user = getattr(request, "user", None)
    return {"kefu_unread": unread_count(user=user) if user is not None and user.is_authenticated else 0}
