"""The text form of a list parameter (a PostgreSQL array literal), as psycopg writes it, without a regular
expression's replacement per quote.

Django's bulk_create on PostgreSQL sends each column as one array (INSERT … SELECT * FROM UNNEST(%s::type[], …)),
and with the client-side binding Django uses, psycopg writes each array as text: every element that needs quotes
is escaped with `re.sub(rb'(["\\])', rb"\\\1", …)`, whose template is expanded by Python once per quote or
backslash found. An audit event's `changes` is JSON, all quotes: the bulk import's 6,650 events of 1,000 projects
held 588,000 of them, about 0.4 s of the worker's 3.5 s (docs/import.md, "Rules once a process"). Two
bytes.replace do the same escaping in C.

And psycopg asks its regular expression of every element whether it needs quotes (326,000 elements for the import
of 1,000 projects, most of them numbers, dates, names and codes that do not): a column's elements are asked at once,
joined, with bytes.translate and a search for the few words and characters the expression looks for; only a column
where one of them is found is asked element by element (docs/import.md, "An import at four times its reading").
Everything else is psycopg's own ListDumper; the output is byte for byte the same (tests/test_psycopg_arrays.py
compares them).
"""

import re

import psycopg
from psycopg.types.array import ListDumper


class TextListDumper(ListDumper):
    def _dump_list(self, obj, tokens, needs_quotes) -> None:
        # psycopg 3.3's ListDumper._dump_list, the escaping of a quoted element aside; a list of no lists (every
        # column of a bulk_create) in comprehensions, and at once when no element needs quotes (most columns:
        # numbers, dates, names, codes).
        if not obj:
            tokens.append(b"{}")
            return

        dump = self.sub_dumper.dump if self.sub_dumper else self._dump_item
        delimiter = self.delimiter
        if not any(issubclass(kind, list) for kind in set(map(type, obj))):
            dumped = [None if item is None else dump(item) for item in obj]
            if not _any_needs_quotes([item for item in dumped if item is not None], delimiter):
                elements = [b"NULL" if item is None else item for item in dumped]
            else:
                elements = [b"NULL" if item is None else _quoted(item, needs_quotes) for item in dumped]
            tokens += (b"{", delimiter.join(elements), b"}")
            return

        tokens.append(b"{")
        for item in obj:
            if item is None:
                tokens.append(b"NULL")
            elif isinstance(item, list):
                self._dump_list(item, tokens, needs_quotes)
            elif (dumped := dump(item)) is None:
                tokens.append(b"NULL")
            else:
                tokens.append(_quoted(dumped, needs_quotes))
            tokens.append(delimiter)
        tokens[-1] = b"}"


def _quoted(dumped, needs_quotes):
    if needs_quotes(dumped):
        # The backslashes first, then the quotes: the same as psycopg's one-pass re.sub.
        return b'"' + bytes(dumped).replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'
    return dumped


# What psycopg's test of an element that needs quotes (types.array._get_needs_quotes_regexp) looks for inside an
# element: these bytes (the delimiter aside, "\\s" of a bytes pattern is these five and the space), and the UTF-8 of
# Unicode spaces.
_SPECIAL_BYTES = b'"{}\\ \t\n\r\x0b\x0c'
_UNICODE_SPACES = re.compile(rb"\xe1\x9a\x80|\xe2\x80[\x80-\x8a\xa8\xa9\xaf]|\xe2\x81\x9f|\xe3\x80\x80")


def _any_needs_quotes(dumped: list, delimiter: bytes) -> bool:
    """Whether psycopg's test would quote any of the elements, asked of all of them joined by NUL bytes (a NUL
    inside an element can only make this say yes: then each element is asked)."""
    joined = b"\x00".join(dumped)
    if len(joined.translate(None, _SPECIAL_BYTES + delimiter)) != len(joined):
        return True
    whole = b"\x00" + joined.lower() + b"\x00"
    return b"\x00\x00" in whole or b"\x00null\x00" in whole or _UNICODE_SPACES.search(joined) is not None


def register() -> None:
    """For every connection made from now on (Django copies psycopg's adapters when it first connects): called by
    projects.apps at start, before any connection."""
    psycopg.adapters.register_dumper(list, TextListDumper)
