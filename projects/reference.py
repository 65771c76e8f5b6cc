"""Reference data shipped with the code: the review authorities of Chongqing.

The 38 districts/counties (GB/T 2260 codes) and 5 development zones that review backfills, from
projects/data/chongqing_authorities.csv. Zones have no code of their own; parent_code names the district a
zone lies in where it lies in one (万盛 in 綦江, 双桥 in 大足).
"""

import csv
from pathlib import Path

from django.db import transaction

from .models import Authority, AuthorityKind

AUTHORITIES_CSV = Path(__file__).resolve().parent / "data" / "chongqing_authorities.csv"


def load_authorities(path: Path = AUTHORITIES_CSV) -> int:
    """Create or update every authority in the CSV, keyed by code. Idempotent; returns the number of rows.

    Authorities not in the file are left alone: one may already be referenced by projects.
    """
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    kinds = set(AuthorityKind.values)
    with transaction.atomic():
        for row in rows:
            code, kind = row["code"].strip(), row["kind"].strip()
            if kind not in kinds:
                raise ValueError(f"{path}: authority {code} has unknown kind {kind!r}")
            Authority.objects.update_or_create(
                code=code,
                defaults={
                    "name": row["name"].strip(),
                    "kind": kind,
                    "parent_code": (row.get("parent_code") or "").strip(),
                },
            )
    return len(rows)
