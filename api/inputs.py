"""JSON in, through the pages' own forms: a field is checked by exactly the form field the page uses (formats,
date bounds, yes/no questions, 联合体成员), then by the same service; only JSON's shape is checked here.

`schema_serializer()` describes a form's fields for the OpenAPI schema (documentation only: the form decides)."""

from django import forms
from django.core.exceptions import ValidationError
from rest_framework import serializers

from projects import identifiers
from projects.forms import EVIDENCE_FIELDS, DesignersField, LinesOfRecordsField, YesNoField
from projects.models import IdDocumentType, ProjectKind

SCALARS = (str, int, float, bool)
# The input schema's choice sets that several fields share, named once (settings.SPECTACULAR_SETTINGS).
PROJECT_KIND_VALUES = ProjectKind.values
ID_DOCUMENT_TYPE_VALUES = IdDocumentType.values


def _records(value, keys) -> bool:
    """A JSON list of objects whose keys are among `keys` and whose values are text."""
    return isinstance(value, list) and all(
        isinstance(item, dict) and set(item) <= set(keys) and all(isinstance(v, str) for v in item.values())
        for item in value
    )


def _value(name, value, field, problems):
    if value is None:
        return ""
    if isinstance(field, LinesOfRecordsField):
        # 联合体成员, 勘察设计人员: a list of objects (the form field takes each as a typed line) or the page's text.
        if isinstance(value, str) or _records(value, field.record_keys):
            return value
        keys = ", ".join(f'"{key}": …' for key in field.record_keys)
        problems.setdefault(name, []).append(f"{field.label}须为 [{{{keys}}}] 的列表或每行一个的文本。")
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


class Designer(serializers.Serializer):
    """One of a design record's designers (TBProjectDesignEconUserInfo): checked by DLEGAL-2 (docs/rules.md)."""

    name = serializers.CharField(help_text="姓名")
    id_type = serializers.CharField(
        help_text="证件类型：代码（"
        + "、".join(f"{code} {label}" for label, code in identifiers.DOCUMENT_TYPES.items())
        + "）或名称"
    )
    id_number = serializers.CharField(help_text="证件号码（身份证按 GB 11643 校验）")
    registration_type = serializers.CharField(
        help_text="注册类型：" + "、".join(identifiers.REGISTRATION_TYPES)
    )
    registration_level = serializers.CharField(
        help_text="注册等级：" + "、".join(identifiers.REGISTRATION_LEVELS)
    )
    role = serializers.CharField(help_text="承担角色：" + "、".join(identifiers.DESIGNER_ROLES))


class JointVentureMember(serializers.Serializer):
    name = serializers.CharField(help_text="单位名称")
    credit_code = serializers.CharField(help_text="统一社会信用代码")


def _schema_field(field: forms.Field):
    common = {"required": False, "help_text": str(field.label or "")}
    if isinstance(field, LinesOfRecordsField):
        item = Designer if isinstance(field, DesignersField) else JointVentureMember
        return serializers.ListField(child=item(), **common)
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


def schema_serializer(name: str, form_class, *more_form_classes) -> type[serializers.Serializer]:
    """The fields of `form_class` (and of `more_form_classes`, where a name is not already taken: one body
    documented for several stages, each of which accepts only its own fields)."""
    fields = {}
    for each in (form_class, *more_form_classes):
        for field_name, field in each.base_fields.items():
            if field_name not in EVIDENCE_FIELDS and field_name not in fields:
                fields[field_name] = _schema_field(field)
    return type(name, (serializers.Serializer,), fields)


def field_names(form_class) -> list[str]:
    return [name for name in form_class.base_fields if name not in EVIDENCE_FIELDS]
