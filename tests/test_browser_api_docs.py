"""The API's readable docs (/api/docs/) in real headless Chromium: Swagger UI renders every operation of the schema
from the portal's own static files, under the portal's Content-Security-Policy (no inline script), and asks no
other host for anything (no CDN)."""

from urllib.parse import urlsplit

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_swagger_ui_renders_the_schema_from_our_own_files(page, live_server):
    own = urlsplit(live_server.url).netloc
    elsewhere, refused = [], []
    page.on(
        "request",
        lambda request: urlsplit(request.url).netloc not in (own, "") and elsewhere.append(request.url),
    )
    page.on(
        "console", lambda message: "Content Security Policy" in message.text and refused.append(message.text)
    )

    page.goto("/api/docs/")
    page.wait_for_selector(".opblock", timeout=30_000)

    assert page.locator(".opblock").count() >= 20
    assert "/api/v1/public/performance/{credit_code}/" in page.content()
    assert elsewhere == []
    assert refused == []
