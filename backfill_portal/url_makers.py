"""reverse(name, args=[pk]) for a page of rows, reversed once a page instead of once a row ({% url %} a row was a
tenth of the queue's time, bench/README.md)."""

import re

from django.urls import reverse

from backfill_portal.converters import IdentifierConverter

SAMPLE_ID = 918273645546372819


def url_maker(name):
    """A function of an integer pk giving reverse(name, args=[pk]): the URL of a sample id, reversed once, with the
    id put in its place."""
    sample = reverse(name, args=[SAMPLE_ID])
    before, found, after = sample.partition(str(SAMPLE_ID))
    assert found and str(SAMPLE_ID) not in after, sample
    return lambda pk: f"{before}{int(pk)}{after}"


def identifier_url_maker(name):
    """The same for a text id of the <identifier:…> converter (backfill_portal/converters.py: the library's
    national ids), which reverse() puts in the URL as it is. A value the converter would not take goes through
    reverse(), which refuses it as before."""
    sample = f"Z{SAMPLE_ID}"
    url = reverse(name, args=[sample])
    before, found, after = url.partition(sample)
    assert found and sample not in after, url
    accepted = re.compile(IdentifierConverter.regex).fullmatch
    return lambda value: f"{before}{value}{after}" if accepted(value) else reverse(name, args=[value])
