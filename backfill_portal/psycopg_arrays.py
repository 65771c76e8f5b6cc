"""The text form of a list parameter (a PostgreSQL array literal), as psycopg writes it, without a regular
expression's replacement per quote.

Django's bulk_create on PostgreSQL sends each column as one array (INSERT … SELECT * FROM UNNEST(%s::type[], …)),
and with the client-side binding Django uses, psycopg writes each array as text: every element that needs quotes
is escaped with `re.sub(rb'(["\\])', rb"\\\1", …)`, whose template is expanded by Python once per quote or
backslash found. An audit event's `changes` is JSON, all quotes: the bulk import's 6,650 events of 1,000 projects
held 588,000 of them, about 0.4 s of the worker's 3.5 s (docs/import.md, "Rules once a process"). Two
bytes.replace do the same escaping in C. Everything else is psycopg's own ListDumper; the output is byte for byte
the same (tests/test_psycopg_arrays.py compares them).
"""

import psycopg
from psycopg.types.array import ListDumper


class TextListDumper(ListDumper):
    def _dump_list(self, obj, tokens, needs_quotes) -> None:
        # psycopg 3.3's ListDumper._dump_list, the escaping of a quoted element aside.
        if not obj:
            tokens.append(b"{}")
            return

        dump = self.sub_dumper.dump if self.sub_dumper else self._dump_item
        delimiter = self.delimiter
        tokens.append(b"{")
        for item in obj:
            if item is None:
                tokens.append(b"NULL")
            elif isinstance(item, list):
                self._dump_list(item, tokens, needs_quotes)
            elif (dumped := dump(item)) is None:
                tokens.append(b"NULL")
            else:
                if needs_quotes(dumped):
                    # The backslashes first, then the quotes: the same as the one-pass re.sub.
                    dumped = b'"' + bytes(dumped).replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'
                tokens.append(dumped)
            tokens.append(delimiter)
        tokens[-1] = b"}"


def register() -> None:
    """For every connection made from now on (Django copies psycopg's adapters when it first connects): called by
    projects.apps at start, before any connection."""
    psycopg.adapters.register_dumper(list, TextListDumper)
