from django.conf import settings


def contact_details() -> dict:
    """The helpdesk as the pages show it (settings.PORTAL_CONTACT_*): also used where no request context exists
    (the 500 page)."""
    return {
        "organisation": settings.PORTAL_CONTACT_ORGANISATION,
        "phone": settings.PORTAL_CONTACT_PHONE,
        "email": settings.PORTAL_CONTACT_EMAIL,
        "hours": settings.PORTAL_CONTACT_HOURS,
        "note": settings.PORTAL_CONTACT_NOTE,
    }


def portal_contact(request):
    return {"portal_contact": contact_details()}


def demo_mode(request):
    """The demo banner (templates/_demo_banner.html): demo data, published logins, no second step for them."""
    return {"demo_mode": settings.DEMO_MODE}
