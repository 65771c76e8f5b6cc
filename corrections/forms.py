"""Forms of the correction pages. They clean what the user typed; what may be corrected and who may act stay with
the services (corrections/services.py)."""

from django import forms

from projects.forms import DateField

from .models import CorrectionStatus
from .values import MAX_EVIDENCE_FILES, MAX_ITEMS


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern): cleaned to a list."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class RequestForm(forms.Form):
    statement = forms.CharField(
        label="更正申请说明",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="写明哪些内容有误、为什么有误；每一项更正在下方逐项列明。",
    )
    evidence = MultipleFileField(
        label="证明材料",
        required=False,
        help_text=f"PDF、JPEG或PNG，可多选（最多{MAX_EVIDENCE_FILES}份），按文件内容识别，与扩展名无关。",
    )


class ItemForm(forms.Form):
    target = forms.ChoiceField(label="需更正的内容")
    proposed_value = forms.CharField(
        label="更正为", max_length=2000, help_text="日期写作2016-07-01；是/否字段写“是”或“否”。"
    )
    reason = forms.CharField(label="错误原因", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, targets=(), **kwargs):
        super().__init__(*args, **kwargs)
        groups: dict[str, list] = {}
        for target in targets:
            groups.setdefault(target["section_label"], []).append((target["key"], target["label"]))
        self.fields["target"].choices = [("", "请选择字段"), *groups.items()]


ItemFormSet = forms.formset_factory(
    ItemForm, extra=2, min_num=1, validate_min=True, max_num=MAX_ITEMS, validate_max=True
)


class OpinionForm(forms.Form):
    accepts = forms.ChoiceField(
        label="核查结论",
        choices=[("yes", "同意更正，报市审批服务中心审定"), ("no", "不同意更正")],
        widget=forms.RadioSelect,
    )
    opinion = forms.CharField(
        label="更正意见", max_length=5000, widget=forms.Textarea(attrs={"rows": 3}), help_text="写明理由。"
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label="撤回原因（可不填）", required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class DecisionForm(forms.Form):
    approves = forms.ChoiceField(
        label="审定结论", choices=[("yes", "批准更正"), ("no", "不予更正")], widget=forms.RadioSelect
    )
    opinion = forms.CharField(label="审定意见", max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))


class OrderForm(forms.Form):
    project_number = forms.CharField(
        label="项目编号", max_length=16, help_text="已入全国平台项目库的项目的16位编号。"
    )
    finding = forms.CharField(label="发现的问题", max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))
    due_on = DateField(label="应答期限")


class SearchForm(forms.Form):
    q = forms.CharField(label="搜索", required=False, max_length=100)
    status = forms.ChoiceField(
        label="状态", required=False, choices=[("", "全部状态"), *CorrectionStatus.choices]
    )
