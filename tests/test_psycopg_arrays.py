"""backfill_portal/psycopg_arrays.py: a list parameter written as psycopg writes it, byte for byte."""

import datetime
import json
from decimal import Decimal

import pytest
from django.db import connection
from psycopg.adapt import PyFormat, Transformer
from psycopg.types.array import ListDumper
from psycopg.types.json import Jsonb

from backfill_portal.psycopg_arrays import TextListDumper
from tests.needs import needs_service

TRICKY = [
    "",
    "NULL",
    "null",
    "plain",
    'a "quoted" word',
    "back\\slash",
    '\\"both\\"',
    "{braces}",
    "a,comma",
    " leading space",
    "tab\there",
    "line\nbreak",
    "重庆市渝中区 某某路1号",
    "全角\u3000空格",
    "\u2028",
    None,
]

LISTS = [
    [],
    [None],
    TRICKY,
    [TRICKY[:5], TRICKY[5:10]],
    [1, 2, None, -3],
    [Decimal("12345678.90"), None],
    [datetime.date(2018, 3, 5), None],
    [Jsonb({"name": ['"某公司"', "a\\b"], "amount": "1,000"}), Jsonb([]), None],
    [Jsonb(json.loads('{"地址": "重庆\\"市\\"", "x": null}'))],
    # Lists whose elements all go unquoted (written at once), and lists with one element that needs quotes among
    # clean ones: each of the reasons, at the start, in the middle and at the end.
    ["重庆市渝中区", "A1", "50010316030500011"],
    ["重庆市渝中区", None, "A1", None],
    [None, None],
    ["a", "NuLl"],
    ["null", "a"],
    ["a", "", "b"],
    [""],
    ["a", "b "],
    ["a\u2003b", "c"],
    ["全角\u3000空格"],
    ["“引号”—破折号", "c"],
    ["{", "a"],
    ["a", "b,c"],
    [datetime.date(2018, 3, 5), datetime.date(2019, 12, 31)],
    [True, False, None],
]


def dumped(dumper_class, value):
    dumper = dumper_class(list, Transformer()).upgrade(value, PyFormat.TEXT)
    return bytes(dumper.dump(value))


@pytest.mark.parametrize("value", LISTS, ids=range(len(LISTS)))
def test_it_writes_a_list_as_psycopg_does(value):
    assert dumped(TextListDumper, value) == dumped(ListDumper, value)


@pytest.mark.django_db
@needs_service(connection.vendor == "postgresql", reason="the dumper is psycopg's: PostgreSQL's connections")
def test_every_connection_writes_lists_with_it_and_the_database_reads_them_back():
    with connection.cursor() as cursor:
        assert connection.connection.adapters.get_dumper(list, PyFormat.TEXT) is TextListDumper
        cursor.execute("SELECT %s::text[]", [TRICKY])
        assert cursor.fetchone()[0] == TRICKY
