"""JSON in, through the pages' own forms: a field is checked by exactly the form field the page uses (formats,
date bounds, yes/no questions, 联合体成员), then by the same service; only JSON's shape is checked here.

`schema_serializer()` describes a form's fields for the OpenAPI schema (documentation only: the form decides)."""

from django import forms
from django.core.exceptions import ValidationError
from rest_framework import serializers

from projects.forms import EVIDENCE_FIELDS, JointVentureMembersField, YesNoField

SCALARS = (str, int, float, bool)


def _value(name, value, field, problems):
    if value is None:
        return ""
    if isinstance(field, JointVentureMembersField):
        if isinstance(value, str):
            return value
        if isinstance(value, list) and all(
            isinstance(item, dict) and all(isinstance(v, str) for v in item.values()) for item in value
        ):
            return value
        problems.setdefault(name, []).append(
            '联合体成员须为 [{"name": …, "credit_code": …}] 或每行一个的文本。'
        )
        return None
    if not isinstance(value, SCALARS):
        problems.setdefault(name, []).append("须为文本、数字或布尔值。")
        return None
    if isinstance(value, float) and value != value:  # NaN never reaches here (the parser refuses it)
        return ""
    return value


def form_data(form_class, payload, *, base: dict, exclude=()) -> dict:
    """`base` (the stored values) with the payload's fields over it: a PATCH changes only what it names. Unknown
    fields and values of the wrong JSON type are refused (ValidationError by field)."""
    if not isinstance(payload, dict):
        raise ValidationError("请求内容须为 JSON 对象。")
    fields = {
        name: field
        for name, field in form_class.base_fields.items()
        if name not in EVIDENCE_FIELDS and name not in exclude
    }
    problems: dict[str, list[str]] = {}
    data = {name: ("" if value is None else value) for name, value in base.items() if name in fields}
    for name, value in payload.items():
        if name not in fields:
            problems.setdefault(str(name)[:60], []).append("没有这个字段。")
            continue
        data[name] = _value(name, value, fields[name], problems)
    if problems:
        raise ValidationError(problems)
    return data


def raise_form_errors(form):
    raise ValidationError({name: list(messages) for name, messages in form.errors.items()})


# ---------------------------------------------------------------- the schema's description of a form


def _schema_field(field: forms.Field):
    common = {"required": False, "help_text": str(field.label or "")}
    if isinstance(field, JointVentureMembersField):
        return serializers.ListField(child=serializers.DictField(child=serializers.CharField()), **common)
    if isinstance(field, YesNoField | forms.BooleanField):
        return serializers.BooleanField(**common)
    if isinstance(field, forms.NullBooleanField):
        return serializers.BooleanField(allow_null=True, **common)
    if isinstance(field, forms.ModelChoiceField):
        return serializers.IntegerField(allow_null=True, **common)
    if isinstance(field, forms.ChoiceField):
        choices = [value for value, _label in field.choices if value != ""]
        return serializers.ChoiceField(choices=choices, allow_blank=True, allow_null=True, **common)
    if isinstance(field, forms.DateField):
        return serializers.DateField(allow_null=True, **common)
    if isinstance(field, forms.DecimalField):
        return serializers.DecimalField(
            max_digits=field.max_digits, decimal_places=field.decimal_places, allow_null=True, **common
        )
    if isinstance(field, forms.IntegerField):
        return serializers.IntegerField(allow_null=True, min_value=field.min_value, **common)
    return serializers.CharField(
        allow_blank=True, allow_null=True, max_length=getattr(field, "max_length", None), **common
    )


def schema_serializer(form_class, name: str) -> type[serializers.Serializer]:
    fields = {
        field_name: _schema_field(field)
        for field_name, field in form_class.base_fields.items()
        if field_name not in EVIDENCE_FIELDS
    }
    return type(name, (serializers.Serializer,), fields)
