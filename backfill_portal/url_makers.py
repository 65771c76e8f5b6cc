"""reverse(name, args=[pk]) for a page of rows, reversed once a page instead of once a row ({% url %} a row was a
tenth of the queue's time, bench/README.md), and the maker itself kept per process: reversing its sample was still a
third of building an uncached /notices/'s rows. A maker is keyed by what reverse() without a current app depends on
(the URLconf and the script prefix: the portal has no i18n_patterns), and the kept makers are dropped when a setting
changes (a test's ROOT_URLCONF)."""

import re

from django.urls import get_script_prefix, get_urlconf, reverse

from backfill_portal.converters import IdentifierConverter
from backfill_portal.kept import Kept

SAMPLE_ID = 918273645546372819
# The script prefix comes from the server (SCRIPT_NAME), not from the portal: bounded all the same.
KEPT_LIMIT = 256

_kept = Kept(KEPT_LIMIT)


def _kept_maker(kind, name, make):
    return _kept.made((kind, name, get_urlconf(), get_script_prefix()), lambda: make(name))


def url_maker(name):
    """A function of an integer pk giving reverse(name, args=[pk]): the URL of a sample id, reversed once, with the
    id put in its place."""
    return _kept_maker("pk", name, _url_maker)


def _url_maker(name):
    sample = reverse(name, args=[SAMPLE_ID])
    before, found, after = sample.partition(str(SAMPLE_ID))
    assert found and str(SAMPLE_ID) not in after, sample
    return lambda pk: f"{before}{int(pk)}{after}"


def identifier_url_maker(name):
    """The same for a text id of the <identifier:…> converter (backfill_portal/converters.py: the library's
    national ids), which reverse() puts in the URL as it is. A value the converter would not take goes through
    reverse(), which refuses it as before."""
    return _kept_maker("identifier", name, _identifier_url_maker)


def _identifier_url_maker(name):
    sample = f"Z{SAMPLE_ID}"
    url = reverse(name, args=[sample])
    before, found, after = url.partition(sample)
    assert found and sample not in after, url
    accepted = re.compile(IdentifierConverter.regex).fullmatch
    return lambda value: f"{before}{value}{after}" if accepted(value) else reverse(name, args=[value])


def identifier_pk_url_maker(name):
    """The same for a URL of a text id and an integer (the library's `<identifier:national_id>/v<int:version>/`):
    a function of both."""
    return _kept_maker("identifier-pk", name, _identifier_pk_url_maker)


def _identifier_pk_url_maker(name):
    sample = f"Z{SAMPLE_ID}"
    url = reverse(name, args=[sample, SAMPLE_ID])
    before, found, rest = url.partition(sample)
    between, found_pk, after = rest.partition(str(SAMPLE_ID))
    assert found and found_pk and sample not in after and str(SAMPLE_ID) not in after, url
    accepted = re.compile(IdentifierConverter.regex).fullmatch
    return lambda value, pk: (
        f"{before}{value}{between}{int(pk)}{after}" if accepted(value) else reverse(name, args=[value, pk])
    )
