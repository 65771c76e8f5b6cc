"""The API's faster pieces answer what DRF's own would: the 业绩 lookup's renderer (orjson) writes the bytes of DRF's
JSONRenderer, and the content negotiation picks the renderer and media type DRF's picks, or refuses as it does
(api/renderers.py, api/negotiation.py; bench/README.md, api.py)."""

import datetime
import decimal

import pytest
from django.http import Http404
from django.utils.translation import gettext_lazy
from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from api.negotiation import ContentNegotiation
from api.renderers import TextJSONRenderer

EVERY_CHARACTER = [
    chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF
]  # no lone surrogates in UTF-8


def both(data, media_type="application/json", context=None):
    return (
        TextJSONRenderer().render(data, media_type, context),
        JSONRenderer().render(data, media_type, context),
    )


def test_every_character_is_written_as_drf_writes_it():
    # Alone, between others, as a key: control characters, quotes, backslashes, U+2028/U+2029 (escaped by DRF),
    # Chinese, astral characters.
    ours, drf = both({"each": EVERY_CHARACTER, "joined": "".join(EVERY_CHARACTER), '\u2028\x00"键': 1})
    assert ours == drf


@pytest.mark.parametrize(
    "data",
    [
        {"next": None, "previous": "http://testserver/?cursor=bz0y", "results": []},
        {"a": [True, False, None, 0, -1, 2**63 - 1, -(2**63)], "b": {"c": {"d": [[], {}, ""]}}},
        [["中标金额（元）", "12345678.00"], ("施工许可", "500103201607010101")],
        {"code": "throttled", "message": "请求过于频繁，请3秒后再试。", "field": None, "errors": []},
        None,
    ],
)
def test_plain_data_is_written_as_drf_writes_it(data):
    ours, drf = both(data)
    assert ours == drf


@pytest.mark.parametrize(
    "data",
    [
        # What orjson would refuse or write its own way goes to DRF's renderer.
        {"when": datetime.datetime(2026, 3, 1, 2, 30, 15, 123456, tzinfo=datetime.UTC)},
        {"day": datetime.date(2026, 3, 1), "at": datetime.time(10, 30)},
        {"amount": decimal.Decimal("12345678.00")},
        {"lazy": gettext_lazy("翻页游标无效。")},
        {1: "a key that is not text", None: "nor this"},
        {"big": 2**64},
    ],
)
def test_anything_else_is_drfs_to_write(data):
    ours, drf = both(data)
    assert ours == drf


@pytest.mark.parametrize("media_type", ["application/json; indent=4", "application/json;indent=2"])
def test_a_pretty_printed_answer_is_drfs_to_write(media_type):
    data = {"results": [{"national_id": "NP-1", "versions": [2, 1]}]}
    ours, drf = both(data, media_type)
    assert ours == drf and b"\n" in ours


NEGOTIATED = [
    ("", {}),
    ("", {"HTTP_ACCEPT": "*/*"}),
    ("", {"HTTP_ACCEPT": "application/json"}),
    ("", {"HTTP_ACCEPT": "application/json; indent=4"}),
    ("", {"HTTP_ACCEPT": "application/*"}),
    ("", {"HTTP_ACCEPT": "text/html"}),
    ("", {"HTTP_ACCEPT": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}),
    ("", {"HTTP_ACCEPT": ""}),
    ("", {"HTTP_ACCEPT": "*/*; q=0"}),
    ("format=json", {}),
    ("format=api", {}),
    ("format=xml", {"HTTP_ACCEPT": "*/*"}),
    ("format=", {}),
    ("page_size=5", {"HTTP_ACCEPT": "*/*"}),
]


@pytest.mark.parametrize("query, headers", NEGOTIATED)
@pytest.mark.parametrize(
    "renderers",
    [
        [JSONRenderer],
        [TextJSONRenderer],
        [JSONRenderer, BrowsableAPIRenderer],
        [BrowsableAPIRenderer, JSONRenderer],
    ],
)
@pytest.mark.parametrize("format_suffix", [None, "json"])
def test_the_negotiation_chooses_as_drfs_does(query, headers, renderers, format_suffix):
    request = Request(APIRequestFactory().get(f"/api/v1/public/notices/?{query}", **headers))
    instances = [renderer() for renderer in renderers]

    def choice(negotiation):
        try:
            renderer, media_type = negotiation.select_renderer(request, instances, format_suffix)
        except (exceptions.NotAcceptable, Http404) as refusal:
            return type(refusal)
        return instances.index(renderer), media_type

    assert choice(ContentNegotiation()) == choice(DefaultContentNegotiation())


def test_plain_data_is_written_by_orjson_not_handed_back_to_drf(monkeypatch):
    def refused(*args, **kwargs):
        raise AssertionError("DRF's renderer called")

    monkeypatch.setattr(JSONRenderer, "render", refused)
    body = TextJSONRenderer().render({"each": EVERY_CHARACTER, "versions": [2, 1]}, "application/json")
    assert body.startswith(b'{"each":["\\u0000",') and body.endswith(b'"versions":[2,1]}')
