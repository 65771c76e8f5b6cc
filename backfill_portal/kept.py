"""Values made once per process and kept by key, for pages that would otherwise make them at every request: a list's
compiled SQL, URL makers, the public search form's fields and options (bench/README.md). What is kept must depend
on nothing but its key. At most `limit` keys are kept, because some keys come from requests (a search word, a
script prefix): a new key beyond the limit drops them all, to be made again. All are dropped when a setting changes
(tests change ROOT_URLCONF, the database, the cache)."""

from django.core.signals import setting_changed


class Kept:
    def __init__(self, limit: int):
        self.limit = limit
        self._values: dict = {}
        setting_changed.connect(self.forget, weak=False)

    def forget(self, **kwargs):
        self._values.clear()

    def get(self, key):
        return self._values.get(key)

    def keep(self, key, value):
        if len(self._values) >= self.limit:
            self._values.clear()
        self._values[key] = value
        return value

    def made(self, key, make):
        """The value kept for `key`, or make()'s, kept."""
        value = self._values.get(key)
        return self.keep(key, make()) if value is None else value

    def __contains__(self, key):
        return key in self._values

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)
