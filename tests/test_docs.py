from pathlib import Path

from projects import rules

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_it_lists_every_rule_in_the_rules_doc():
    table = (DOCS / "rules.md").read_text(encoding="utf-8")
    missing = [r.code for r in rules.RULES if f"| {r.code} |" not in table]
    assert missing == []
