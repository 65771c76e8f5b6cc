from django.utils.functional import SimpleLazyObject

from . import permissions, selectors


def inbox(request):
    """The unread count in the header, counted only when a page shows it (a lazy callable)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": lambda: selectors.unread_count(user)}


def policy(request):
    """What the header and the console's home may link to, as projects.permissions says: `may.enterprise_pages`,
    `may.console`, `may.corrections`, `may.city_pages`, and `acting_for` (the organisation beside the user's
    name). Lazy: a page that shows none of them asks nothing."""
    user = getattr(request, "user", None)
    if user is None:
        return {}

    def answers():
        return {
            "enterprise_pages": permissions.is_enterprise(user),
            "console": permissions.is_console_user(user),
            "corrections": permissions.has_organisation(user),
            "city_pages": permissions.is_city(user),
        }

    return {
        "may": SimpleLazyObject(answers),
        "acting_for": SimpleLazyObject(lambda: permissions.organisation_name(user)),
    }
