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
