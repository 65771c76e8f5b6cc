"""Django field validators: thin adapters over identifiers.py."""

from django.core.exceptions import ValidationError

from . import identifiers


def validate_plain_text(value):
    problem = identifiers.markup_problem(value)
    if problem:
        raise ValidationError(problem, code="markup")


def validate_credit_code(value):
    problem = identifiers.credit_code_problem(value)
    if problem:
        raise ValidationError(problem, code="credit_code")


def validate_optional_credit_code(value):
    if value:
        validate_credit_code(value)


def validate_optional_id_number(value):
    if value:
        problem = identifiers.id_number_problem(value)
        if problem:
            raise ValidationError(problem, code="id_number")


def validate_joint_venture_members(value):
    """The stored shape: a list of {"name", "credit_code"} of plain text (the codes' check is the rule engine's,
    LEGAL-2, so a draft is refused with the member named)."""
    if not isinstance(value, list) or not all(
        isinstance(m, dict)
        and set(m) == {"name", "credit_code"}
        and all(isinstance(v, str) for v in m.values())
        for m in value
    ):
        raise ValidationError(
            "联合体成员应为“单位名称 统一社会信用代码”的列表。", code="joint_venture_members"
        )
    for member in value:
        validate_plain_text(member["name"])
        validate_plain_text(member["credit_code"])


def validate_designers(value):
    """The stored shape: a list of dicts of identifiers.DESIGNER_KEYS, plain text (whether the choices and the
    numbers are right is the rule engine's, DLEGAL-2, so a draft may be saved and the person is named)."""
    allowed = {*identifiers.DESIGNER_KEYS, "malformed"}
    if not isinstance(value, list) or not all(
        isinstance(p, dict) and set(p) <= allowed and all(isinstance(v, str) for v in p.values())
        for p in value
    ):
        raise ValidationError(f"勘察设计人员应为“{identifiers.DESIGNER_FORMAT}”的列表。", code="designers")
    for person in value:
        for item in person.values():
            validate_plain_text(item)
