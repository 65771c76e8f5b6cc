"""publicity 0012 notes the enterprise names of the entries already in the library: a database with entries
written at publicity 0011 migrates forward with each of their names noted once. Runs on SQLite and PostgreSQL."""

import pytest

from publicity.models import LibraryEnterpriseName, LibraryEntry
from tests.builders import EnterpriseFactory, enter_library, make_enterprise_user, make_project
from tests.test_correction_migrations import head, migrate

BEFORE = [("publicity", "0011_library_covering_index")]


@pytest.mark.django_db(transaction=True)
def test_the_names_of_the_entries_already_entered_are_noted_once(yuzhong):
    for n, name in enumerate(["重庆迁移建设有限公司", "重庆迁移建设有限公司", "重庆另一迁移建工有限公司"]):
        clerk = make_enterprise_user(enterprise=EnterpriseFactory(name=name), username=f"migrating-{n}")
        enter_library(
            make_project(clerk.membership.enterprise, clerk, yuzhong, evidence=False, name=f"迁移{n}")
        )
    try:
        migrate(BEFORE)
        migrate(head())

        names = list(LibraryEnterpriseName.objects.order_by("name").values_list("name", flat=True))
        assert names == sorted(set(LibraryEntry.objects.values_list("enterprise_name", flat=True)))
        assert names == ["重庆另一迁移建工有限公司", "重庆迁移建设有限公司"]
    finally:
        migrate(head())  # the tests after this one need the database at its head, whatever happened here
