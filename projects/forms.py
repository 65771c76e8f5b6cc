"""Forms of the enterprise pages. They check field formats (model validators); the record's rules are the rule
engine's, applied by the services, whose findings the views put back on the form's fields."""

import datetime

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from .models import STAGE_MODELS, Authority, Project
from .services import PROJECT_EDITABLE_FIELDS


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


def add_findings(form, findings):
    """Put the rule engine's findings on the form: on their field where the form has it, else on top."""
    for finding in findings:
        field = finding.field if finding.field in form.fields else None
        form.add_error(field, finding.message)


class ProjectForm(forms.ModelForm):
    project_number = forms.CharField(
        label="已有项目编号",
        required=False,
        max_length=16,
        help_text="项目已有16位项目编号的请填写并保留原编号；没有的留空，由系统按“区县代码+日期+流水号”生成。",
    )

    class Meta:
        model = Project
        fields = ["project_number", *PROJECT_EDITABLE_FIELDS]
        widgets = {
            "address": forms.TextInput(attrs={"size": 60}),
            "name": forms.TextInput(attrs={"size": 60}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["authority"].queryset = Authority.objects.order_by("code")
        self.fields["authority"].label = "项目所在地审核部门"
        self.fields["county_code"].required = False
        self.fields[
            "county_code"
        ].help_text = "GB/T 2260 区县代码；留空则按审核部门所在区县填写（开发区须填写）。"
        if self.instance.pk:
            # The number is the record's identity once issued: shown, not edited.
            del self.fields["project_number"]


def stage_form_class(stage_code: str) -> type[forms.ModelForm]:
    model = STAGE_MODELS[stage_code]
    date_fields = [f.name for f in model._meta.concrete_fields if f.get_internal_type() == "DateField"]
    return forms.modelform_factory(
        model,
        exclude=["project", "updated_by", "updated_at"],
        field_classes={name: DateField for name in date_fields},
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
