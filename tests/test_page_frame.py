"""The page frame rendered once per process (projects/templatetags/frame.py) gives byte for byte what the templates'
includes and `{% url %}` tags gave, for a visitor and for a signed-in user of each role, on every public page and a
console page; the kept copies of one user's frame are never another's.

The reference is the same page's template rendered with the same context by an engine in which `{% fragment %}` is
Django's `{% include %}` (the whole context, not only the given values) and `{% fixed_url %}` is `{% url %}`
(tests/frame_reference.py), and the header links' template as it was before (`user.is_authenticated`)."""

import re

import pytest
from django.template import Context, engines
from django.template.engine import Engine
from django.test import Client
from django.urls import reverse

from projects.templatetags import frame
from tests.builders import make_agency_reviewer, make_city_user, make_reviewer
from tests.test_public_pages import clerk, close_and_enter, quick_notice  # noqa: F401 (fixtures)

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
OLD_HEADER_LINKS = """<a href="{% url 'publicity:notice_list' %}" id="nav-notices">公示</a>
<a href="{% url 'publicity:library_list' %}" id="nav-library">项目库</a>
<a href="{% url 'integrity:blacklist_public' %}" id="public-blacklist-link">黑名单</a>
<a href="{% url 'publicity:guide' %}" id="nav-guide">办事指南</a>
{% if user.is_authenticated %}<a href="{% url 'home' %}" id="nav-workspace">我的工作台</a>{% else %}<a href="{% url 'login' %}" id="nav-login">登录</a>{% endif %}
"""  # noqa: E501


def reference_engine() -> Engine:
    real = engines["django"].engine
    return Engine(
        dirs=real.dirs,
        app_dirs=real.app_dirs,
        libraries={**real.libraries, "frame": "tests.frame_reference"},
        builtins=real.builtins[len(Engine.default_builtins) :],
    )


@pytest.fixture
def pages(clerk, yuzhong, settings):  # noqa: F811
    settings.PUBLIC_PAGE_CACHE_SECONDS = 0
    notices = [quick_notice(clerk, yuzhong, f"框架工程{n}") for n in range(2)]
    close_and_enter(notices[0], "NP-FRAME-0001")
    code = clerk.membership.enterprise.credit_code
    return [
        reverse("home"),
        reverse("publicity:notice_list"),
        reverse("publicity:notice_list") + "?q=%E6%A1%86%E6%9E%B6&page=1",
        reverse("publicity:notice_detail", args=[notices[1].pk]),
        reverse("publicity:library_list"),
        reverse("publicity:library_detail", args=["NP-FRAME-0001"]),
        reverse("publicity:performance_lookup") + f"?q={code}",
        reverse("publicity:performance_enterprise", args=[code]),
    ]


@pytest.fixture
def people(clerk, yuzhong):  # noqa: F811
    return {
        "visitor": None,
        "enterprise": clerk,
        "reviewer": make_reviewer(yuzhong, username="frame-reviewer"),
        "city": make_city_user(username="frame-city"),
        "agency reviewer": make_agency_reviewer(username="frame-agency"),
    }


def test_every_page_is_what_the_includes_gave_for_each_role(pages, people):
    engine = reference_engine()
    frame.forget()
    seen = {}
    # Twice round: the second time every fragment comes from the copies the first round kept, another role's included.
    for _round in range(2):
        for role, user in people.items():
            client = Client()
            if user is not None:
                client.force_login(user)
            for url in pages + ([reverse("review:queue")] if role in {"reviewer", "city"} else []):
                response = client.get(url, follow=True)
                assert response.status_code == 200, (role, url)
                name = response.templates[0].name
                context = response.context[0] if isinstance(response.context, list) else response.context
                context = context.flatten()
                expected = engine.get_template(name).render(Context(context, autoescape=True))
                body = response.content.decode()
                assert TOKEN.sub("TOKEN", body) == TOKEN.sub("TOKEN", expected), (role, url)
                if _round:
                    assert TOKEN.sub("TOKEN", body) == seen[role, url], (role, url)
                seen[role, url] = TOKEN.sub("TOKEN", body)
    # The frames differ where they should: the signed-in header links to the workspace, a visitor's to the login.
    assert (
        'id="nav-login"' in seen["visitor", pages[1]]
        and 'id="nav-workspace"' not in seen["visitor", pages[1]]
    )
    assert (
        'id="nav-workspace"' in seen["reviewer", pages[1]]
        and 'id="nav-login"' not in seen["reviewer", pages[1]]
    )


@pytest.mark.parametrize("signed_in", [False, True])
def test_the_header_links_are_what_the_old_template_gave(db, signed_in):
    from django.contrib.auth.models import AnonymousUser

    from tests.builders import make_enterprise_user

    user = make_enterprise_user(username="frame-header") if signed_in else AnonymousUser()
    frame.forget()
    old = engines["django"].from_string(OLD_HEADER_LINKS).render({"user": user})
    new = engines["django"].from_string(
        '{% load frame %}{% fragment "public/_header_links.html" signed_in=user.is_authenticated %}'
    )
    assert new.render({"user": user}) == old
    assert new.render({"user": user}) == old  # kept


def test_a_fragment_takes_only_plain_values():
    template = engines["django"].from_string(
        '{% load frame %}{% fragment "_demo_banner.html" demo_mode=user %}'
    )
    with pytest.raises(TypeError):
        template.render({"user": object()})


def test_a_changed_setting_is_shown(db, settings):
    template = engines["django"].from_string(
        '{% load frame %}{% fragment "_demo_banner.html" demo_mode=on %}'
    )
    assert template.render({"on": False}).strip() == ""
    assert 'id="demo-banner"' in template.render({"on": True})
    settings.PORTAL_CONTACT_PHONE = "023-12345678"
    contact = engines["django"].from_string('{% load frame %}{% fragment "public/_contact.html" contact=c %}')
    from backfill_portal.context_processors import contact_details

    assert "023-12345678" in contact.render({"c": contact_details()})
    settings.PORTAL_CONTACT_PHONE = "023-87654321"
    assert "023-87654321" in contact.render({"c": contact_details()})


def test_a_fragment_follows_the_language_changed_in_the_middle_of_a_page():
    frame.forget()
    engines["django"].from_string(
        '{% load frame i18n %}{% fragment "_demo_banner.html" demo_mode=False %}'
        '{% language "en" %}{% fragment "_demo_banner.html" demo_mode=False %}{% endlanguage %}'
        '{% fragment "_demo_banner.html" demo_mode=True %}'
    ).render({})
    languages = {(values, where[3]) for _kind, _name, values, where, *_ in frame._rendered}
    assert languages == {
        ((("demo_mode", False),), "zh-hans"),
        ((("demo_mode", False),), "en"),
        ((("demo_mode", True),), "zh-hans"),
    }
