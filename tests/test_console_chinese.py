"""The console speaks Chinese: no stock English, no "---------" where a prompt belongs, no "以 状态" filter titles,
usernames as typed (docs/dependencies.md, "No admin theme")."""

import re

from django.urls import reverse

from projects.models import Status

from .builders import make_project

STOCK = ["---------", "以 ", "By ", "Action:", "Go", "Django administration", "Search"]


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_the_record_list_has_no_stock_english_or_dash_prompts(client, clerk, yuzhong, db):
    from .builders import make_reviewer

    reviewer = make_reviewer(yuzhong, username="Reviewer-MixedCase")
    make_project(clerk.membership.enterprise, clerk, yuzhong, status=Status.SUBMITTED)
    client.force_login(reviewer)

    html = client.get(reverse("admin:projects_project_changelist")).content.decode()

    text = visible_text(html)
    for stock in STOCK:
        assert stock not in text, stock
    assert "请选择操作" in html
    assert "Reviewer-MixedCase" in text  # as typed; the stylesheet keeps it from being upper-cased
    assert "review/console.css" in html
