"""What changed between two submissions (review.selectors.diff_contents / diff_evidence): pure functions."""

from review.selectors import FieldChange, diff_contents, diff_evidence

BEFORE = {
    "project": {
        "name": "渝中区示范综合楼工程",
        "total_area": "8888.00",
        "is_completed": True,
        "project_type": "building_general",
    },
    "permit": {
        "project": 7,
        "permit_number": "500103201607010101",
        "issued_on": "2016-07-01",
        "area": "8888.00",
    },
    "completion": None,
}


def test_it_finds_nothing_between_equal_submissions():
    assert diff_contents(BEFORE, BEFORE) == []


def test_it_lists_a_changed_field_with_its_label_and_both_values():
    after = {**BEFORE, "permit": {**BEFORE["permit"], "issued_on": "2016-07-02"}}
    assert diff_contents(BEFORE, after) == [
        FieldChange("permit", "施工许可", "issued_on", "发证日期", "2016-07-01", "2016-07-02")
    ]


def test_it_shows_choices_booleans_and_amounts_as_a_reader_reads_them():
    after = {
        **BEFORE,
        "project": {
            **BEFORE["project"],
            "is_completed": False,
            "project_type": "municipal_general",
            "total_area": "9000",
        },
    }
    rows = {c.field: (c.label, c.before, c.after) for c in diff_contents(BEFORE, after)}
    assert rows == {
        "project_type": ("项目类型", "建筑工程施工总承包", "市政公用工程施工总承包"),
        "is_completed": ("是否已竣工", "是", "否"),
        "total_area": ("总面积（平方米）", "8,888.00", "9,000.00"),
    }


def test_it_lists_every_field_of_a_stage_filled_since():
    after = {**BEFORE, "completion": {"project": 7, "filing_number": "JGBA-1", "remarks": ""}}
    rows = diff_contents(BEFORE, after)
    assert [(c.stage, c.field, c.before, c.after) for c in rows] == [
        ("completion", "filing_number", "", "JGBA-1")
    ]


def test_it_treats_blank_and_missing_as_the_same():
    after = {**BEFORE, "permit": {**BEFORE["permit"], "safety_licence_number": ""}}
    assert diff_contents(BEFORE, after) == []


def test_it_orders_changes_by_stage_then_field_and_keeps_unknown_keys():
    after = {
        "project": {**BEFORE["project"], "name": "新名称", "retired_field": "x"},
        "permit": {**BEFORE["permit"], "area": "1.00", "permit_number": "500103201607010102"},
        "completion": None,
    }
    rows = diff_contents(BEFORE, after)
    assert [(c.stage, c.field) for c in rows] == [
        ("project", "name"),
        ("project", "retired_field"),
        ("permit", "permit_number"),
        ("permit", "area"),
    ]
    assert rows[1].label == "retired_field"


def test_it_handles_a_first_submission():
    assert [c.field for c in diff_contents(None, {"project": {"name": "甲"}})] == ["name"]


def test_it_lists_evidence_added_and_removed():
    before = [
        {"id": 1, "stage": "permit", "name": "许可证.pdf", "sha256": "a"},
        {"id": 2, "stage": "permit", "name": "旧.pdf", "sha256": "b"},
    ]
    after = [before[0], {"id": 3, "stage": "completion", "name": "备案表.pdf", "sha256": "c"}]
    added, removed = diff_evidence(before, after)
    assert [(e["name"], e["stage_label"]) for e in added] == [("备案表.pdf", "竣工验收备案")]
    assert [e["name"] for e in removed] == ["旧.pdf"]
