"""reverse(name, args=[pk]) for a page of rows, reversed once a page instead of once a row ({% url %} a row was a
tenth of the queue's time, bench/README.md)."""

from django.urls import reverse

SAMPLE_ID = 918273645546372819


def url_maker(name):
    """A function of an integer pk giving reverse(name, args=[pk]): the URL of a sample id, reversed once, with the
    id put in its place."""
    sample = reverse(name, args=[SAMPLE_ID])
    before, found, after = sample.partition(str(SAMPLE_ID))
    assert found and str(SAMPLE_ID) not in after, sample
    return lambda pk: f"{before}{int(pk)}{after}"
