"""The console's home page links the review-side apps' pages for the users who may use them."""

import re

import pytest

from projects.models import CityDepartment

from .builders import make_city_user, make_enterprise_user, make_reviewer

pytestmark = pytest.mark.django_db

CORRECTION_LINKS = {
    "/review/queue/",
    "/corrections/",
    "/corrections/orders/",
    "/review/national/",
}  # the work queue first
CITY_LINKS = {
    "/city/spot-checks/",
    "/city/spot-checks/work/",
    "/city/integrity/blacklist/",
    "/city/integrity/enterprises/",
    "/city/figures/",
    "/city/reused-evidence/",
}


def review_links(client) -> set[str]:
    response = client.get("/admin/")
    assert response.status_code == 200
    block = re.search(r'<div class="module" id="review-pages">(.*?)</div>', response.content.decode(), re.S)
    return set(re.findall(r'href="([^"]+)"', block.group(1))) if block else set()


def test_a_reviewer_sees_the_correction_pages_and_each_link_opens(client, authorities):
    client.force_login(make_reviewer(authorities["500103"]))

    links = review_links(client)

    assert links == CORRECTION_LINKS
    assert all(client.get(link).status_code == 200 for link in links)


def test_a_city_user_sees_every_page_and_each_link_opens(client, authorities):
    client.force_login(make_city_user(department=CityDepartment.APPROVAL_CENTER))

    links = review_links(client)

    assert links == CORRECTION_LINKS | CITY_LINKS
    assert all(client.get(link).status_code == 200 for link in links)


def test_an_enterprise_user_has_no_console(client):
    client.force_login(make_enterprise_user())

    assert client.get("/admin/").status_code == 302  # the admin's own login page: not staff
