from . import selectors


def inbox(request):
    """The unread count in the header, counted only when a page shows it (a lazy callable)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": lambda: selectors.unread_count(user)}
