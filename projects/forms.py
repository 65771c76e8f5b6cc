"""Forms of the enterprise pages. They check field formats (model validators); the record's rules are the rule
engine's, applied by the services, whose findings the views put back on the form's fields."""

import datetime

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from . import identifiers, rules
from .models import (
    CONSTRUCTION_PROJECT_TYPES,
    DESIGN_PROJECT_TYPES,
    STAGE_MODELS,
    Authority,
    DrawingReviewStage,
    EvidencePart,
    Project,
    ProjectKind,
    ProjectType,
    StageCode,
)
from .services import PROJECT_EDITABLE_FIELDS
from .validators import validate_optional_credit_code, validate_optional_id_number


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


# No date this portal deals in lies outside these bounds; a year such as 9999 or 0001 is a slip of the keyboard, and
# letting it through would overflow the date arithmetic further on (a day's end, a filter's next day).
EARLIEST_DATE = datetime.date(1949, 10, 1)
LATEST_DATE = datetime.date(2099, 12, 31)
DATE_RANGE_MESSAGE = f"日期须在{EARLIEST_DATE:%Y-%m-%d}至{LATEST_DATE:%Y-%m-%d}之间。"


class DateField(forms.DateField):
    """Every date typed into the portal: a calendar picker, a Chinese message, and sane bounds."""

    widget = DateInput
    default_validators = [
        MinValueValidator(EARLIEST_DATE, message=DATE_RANGE_MESSAGE),
        MaxValueValidator(LATEST_DATE, message=DATE_RANGE_MESSAGE),
    ]


def add_findings(form, findings, *, stage_code=None):
    """Put the rule engine's findings on the form: on their field where the form has it, else on top. A finding
    about another stage's date that this stage's save caused (dates out of order) also marks this stage's own
    date: the field the clerk just edited."""
    own_date = STAGE_MODELS[stage_code].date_field if stage_code in STAGE_MODELS else None
    for finding in findings:
        field = finding.field if finding.field in form.fields else None
        if (
            field is None
            and own_date in form.fields
            and finding.stage in STAGE_MODELS
            and finding.stage != stage_code
            and finding.field == STAGE_MODELS[finding.stage].date_field
        ):
            field = own_date
        form.add_error(field, finding.message)


def format_note(model_field) -> str:
    """What a value of this field looks like, shown beside it (and in the import template)."""
    internal = model_field.get_internal_type()
    if internal == "DateField":
        return "日期，如2018-03-05"
    if internal == "DecimalField":
        return "数字，最多两位小数"
    # By name as well: the national standard's fields check codes in the rule engine, not with a validator.
    if validate_optional_credit_code in model_field.validators or model_field.name.endswith("credit_code"):
        return "18位统一社会信用代码"
    if validate_optional_id_number in model_field.validators or model_field.name.endswith("id_number"):
        return "18位身份证号码，末位可为X（证件类型为身份证时）"
    if model_field.name == "permit_number":
        return "18位：区县代码6位+发证日期8位+流水号2位+类别2位"
    return ""


class YesNoField(forms.TypedChoiceField):
    """A yes/no question as a required choice between 是 and 否: never an unticked box read as 否."""

    widget = forms.RadioSelect

    def __init__(self, **kwargs):
        for name in ("max_length", "empty_value", "coerce", "choices"):
            kwargs.pop(name, None)
        kwargs["required"] = True
        super().__init__(
            choices=[(True, "是"), (False, "否")], coerce=lambda value: value in (True, "True"), **kwargs
        )


class MarkedFormMixin:
    """Each field says what the self-check requires (必填) and its format: `required_fields` are the rule engine's
    (a draft may still be saved without them: marked, not enforced)."""

    required_fields: tuple = ()

    def mark_fields(self):
        model = self._meta.model
        for name, field in self.fields.items():
            field.marked_required = field.required or name in self.required_fields
            try:
                field.format_note = format_note(model._meta.get_field(name))
            except Exception:  # a form field that is no model field (the evidence file)
                field.format_note = ""
            if field.marked_required:
                field.widget.attrs.setdefault("aria-required", "true")


class LinesOfRecordsField(forms.CharField):
    """A JSON list of records typed one per line, read and written by the subclass's parse_lines and
    format_lines (projects.identifiers); never required. A list given as such (the API's JSON) is taken item by
    item through the subclass's `record_of`, as a typed line's words are; its keys are `record_keys`."""

    record_keys: tuple = ()
    record_of = staticmethod(dict)

    def __init__(self, **kwargs):
        for name in ("encoder", "decoder"):
            kwargs.pop(name, None)
        kwargs["required"] = False
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list):
            return self.format_lines(value)
        return value

    def to_python(self, value):
        if isinstance(value, list):
            return [self.record_of(item) if isinstance(item, dict) else item for item in value]
        return self.parse_lines(super().to_python(value))

    def has_changed(self, initial, data):
        return self.to_python(initial or []) != self.to_python(data)


class JointVentureMembersField(LinesOfRecordsField):
    """联合体成员 typed one per line, "单位名称 统一社会信用代码", kept as [{"name", "credit_code"}]."""

    widget = forms.Textarea(attrs={"rows": 3, "placeholder": "重庆某建设有限公司 91500103MA5U000000"})

    record_keys = ("name", "credit_code")
    format_lines = staticmethod(identifiers.format_joint_venture_members)
    parse_lines = staticmethod(identifiers.parse_joint_venture_members)


class DesignersField(LinesOfRecordsField):
    """勘察设计人员 typed one per line, "姓名 证件类型 证件号码 注册类型 注册等级 承担角色", kept as a list of dicts
    (identifiers.parse_designers); what is wrong with a line is the rule engine's (DLEGAL-2), naming the person."""

    widget = forms.Textarea(
        attrs={"rows": 4, "placeholder": "王设计 身份证 500103198001011234 注册建筑师 一级 项目负责人"}
    )

    record_keys = identifiers.DESIGNER_KEYS
    record_of = staticmethod(identifiers.designer_of)
    format_lines = staticmethod(identifiers.format_designers)
    parse_lines = staticmethod(identifiers.parse_designers)


YES_NO_FIELDS = ("is_classified", "is_completed", "already_in_national_library")
# What a design record's basic information does not ask (docs/design-projects.md): it is not a completed works.
CONSTRUCTION_ONLY_PROJECT_FIELDS = ("is_completed", "start_basis")


class ProjectForm(MarkedFormMixin, forms.ModelForm):
    project_number = forms.CharField(
        label="已有项目编号",
        required=False,
        max_length=16,
        help_text="项目已有16位项目编号的请填写并保留原编号；没有的留空，由系统按“区县代码+日期+流水号”生成。",
    )

    class Meta:
        model = Project
        fields = ["project_number", *PROJECT_EDITABLE_FIELDS]
        field_classes = {name: YesNoField for name in YES_NO_FIELDS}
        widgets = {
            "address": forms.TextInput(attrs={"size": 60}),
            "name": forms.TextInput(attrs={"size": 60}),
        }

    kind = forms.ChoiceField(choices=ProjectKind.choices, widget=forms.HiddenInput, required=False)

    def __init__(self, *args, kind=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The record's kind: the instance's once created, else the enterprise's (the service refuses a forged one).
        kind = self.instance.kind if self.instance.pk else (kind or ProjectKind.CONSTRUCTION)
        self.initial.setdefault("kind", kind)
        types = DESIGN_PROJECT_TYPES if kind == ProjectKind.DESIGN else CONSTRUCTION_PROJECT_TYPES
        self.fields["project_type"].choices = [("", "---------"), *[(t, ProjectType(t).label) for t in types]]
        if kind == ProjectKind.DESIGN:
            for name in CONSTRUCTION_ONLY_PROJECT_FIELDS:
                del self.fields[name]
        self.fields["authority"].queryset = Authority.objects.order_by("code")
        self.fields["authority"].label = "项目所在地审核部门"
        self.fields["county_code"].required = False
        self.fields[
            "county_code"
        ].help_text = "GB/T 2260 区县代码；留空则按审核部门所在区县填写（开发区须填写）。"
        if self.instance.pk:
            # The number is the record's identity once issued (and the kind its nature): shown, not edited.
            del self.fields["project_number"]
            del self.fields["kind"]
        else:
            for (
                name
            ) in YES_NO_FIELDS:  # asked, not defaulted: the model's default would answer 否 for the clerk
                self.initial[name] = None
        self.mark_fields()


EVIDENCE_FIELDS = ("file", "evidence_description", "evidence_part")


class StageForm(MarkedFormMixin, forms.ModelForm):
    """A stage's fields and, in the same form, a file of evidence: one button saves both, so nothing typed is lost
    to an upload (docs/files.md)."""

    file = forms.FileField(
        label="证明材料文件",
        required=False,
        help_text="可与本环节信息一起保存。PDF、JPEG或PNG，按文件内容识别。",
    )
    evidence_description = forms.CharField(label="材料说明", max_length=200, required=False)
    evidence_parts: tuple = ()  # where the stage asks for several documents: which one the file is

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.evidence_parts:
            self.fields["evidence_part"] = forms.ChoiceField(
                label="材料类别",
                required=False,
                choices=[(part, EvidencePart(part).label) for part in self.evidence_parts],
            )
        self.mark_fields()

    def stage_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.fields if name not in EVIDENCE_FIELDS}

    def stage_changed(self) -> bool:
        return any(name not in EVIDENCE_FIELDS for name in self.changed_data)


# A design record's tender and its drawing review leave out what belongs to a construction contract (the project
# manager, the tendered area); a construction record's drawing review leaves out the design record's units and
# designers (its permit names the survey and design units).
DESIGN_EXCLUDED_FIELDS = {
    StageCode.TENDERING: [
        "area",
        "project_manager_name",
        "project_manager_id_type",
        "project_manager_id_number",
    ],
}
CONSTRUCTION_EXCLUDED_FIELDS = {StageCode.DRAWING_REVIEW: list(DrawingReviewStage.DESIGN_ONLY_FIELDS)}


def stage_form_class(stage_code: str, kind: str = ProjectKind.CONSTRUCTION) -> type[forms.ModelForm]:
    model = STAGE_MODELS[stage_code]
    date_fields = [f.name for f in model._meta.concrete_fields if f.get_internal_type() == "DateField"]
    design = kind == ProjectKind.DESIGN
    required = (rules.DESIGN_REQUIRED_FIELDS if design else rules.REQUIRED_FIELDS).get(stage_code, ())
    excluded = (DESIGN_EXCLUDED_FIELDS if design else CONSTRUCTION_EXCLUDED_FIELDS).get(stage_code, [])
    parts = tuple(part for (code, part) in rules.DESIGN_EVIDENCE if design and code == stage_code and part)
    return forms.modelform_factory(
        model,
        form=type(
            f"{model.__name__}Form",
            (StageForm,),
            {"required_fields": tuple(required), "evidence_parts": parts},
        ),
        exclude=["project", "updated_by", "updated_at", *excluded],
        field_classes={
            **{name: DateField for name in date_fields},
            **{
                f.name: JointVentureMembersField
                for f in model._meta.concrete_fields
                if f.name == "joint_venture_members"
            },
            **{f.name: DesignersField for f in model._meta.concrete_fields if f.name == "designers"},
        },
        widgets={
            **{name: DateInput() for name in date_fields},
            **{
                f.name: forms.Textarea(attrs={"rows": 3})
                for f in model._meta.concrete_fields
                if f.get_internal_type() == "TextField"
            },
        },
    )


class EvidenceUploadForm(forms.Form):
    file = forms.FileField(label="证明材料文件", help_text="PDF、JPEG或PNG，按文件内容识别。")
    description = forms.CharField(label="说明", max_length=200, required=False)


class ArchiveEvidenceForm(forms.Form):
    reason = forms.CharField(label="删除原因", max_length=200, required=False)


class ProjectSearchForm(forms.Form):
    q = forms.CharField(label="搜索", required=False, max_length=100)
    status = forms.ChoiceField(label="状态", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from .models import Status

        self.fields["status"].choices = [("", "全部状态"), *Status.choices]
