"""Forms of the spot-check pages. They clean what the user typed; who may act and what a campaign or a finding
must hold stay with the services (inspections/services.py)."""

from django import forms

from projects.forms import DateField
from projects.models import STAGE_ORDER, Authority, AuthorityKind, StageCode

from . import services
from .models import Finding


class CampaignForm(forms.Form):
    """Parses a campaign as typed, with the messages the city has always been shown; the rules of a campaign's
    period and sample are the service's (services.campaign_problems), put back beside these fields by the view."""

    name = forms.CharField(label="抽查名称", max_length=200, error_messages={"required": "请填写抽查名称。"})
    authorities = forms.ModelMultipleChoiceField(
        label="抽查区县（开发区）",
        queryset=Authority.objects.order_by("code"),
        # Chosen by code, a string: a forged id beyond the database's integer range cannot crash the lookup.
        to_field_name="code",
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "请至少选择一个抽查区县（开发区）。",
            "invalid_choice": "所选区县（开发区）不存在：%(value)s。",
            "invalid_pk_value": "所选区县（开发区）不存在：%(pk)s。",
        },
    )
    stages = forms.MultipleChoiceField(
        label="抽查环节",
        choices=[(code, StageCode(code).label) for code in STAGE_ORDER],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "请至少选择一个抽查环节。", "invalid_choice": "未知的环节：%(value)s。"},
    )
    period_start = DateField(label="入库起始日期", error_messages={"required": "请填写入库起始日期。"})
    period_end = DateField(label="入库截止日期", error_messages={"required": "请填写入库截止日期。"})
    sample_rate = forms.DecimalField(
        label="抽查比例（%）",
        required=False,
        max_digits=5,
        decimal_places=2,
        help_text="与抽查数量二选一",
        error_messages={"invalid": "抽查比例须为数字（百分比）。"},
    )
    sample_size = forms.IntegerField(
        label="抽查数量（条记录）",
        required=False,
        min_value=1,
        error_messages={"invalid": "抽查数量须为正整数。", "min_value": "抽查数量须为正整数。"},
    )

    def authority_groups(self) -> list[tuple[str, str, list]]:
        """The authorities' checkboxes by kind — the districts (区), the counties (县), the development zones
        (两江新区, 高新区, 经开区…) — each group with its own select-all on the page (static/inspections/campaign.js)."""
        groups: dict[str, list] = {kind: [] for kind in AuthorityKind.values}
        for box in self["authorities"]:
            groups[box.data["value"].instance.kind].append(box)
        return [(kind, GROUP_LABELS[kind], boxes) for kind, boxes in groups.items() if boxes]


GROUP_LABELS = {
    AuthorityKind.DISTRICT: "区",
    AuthorityKind.COUNTY: "县（含自治县）",
    AuthorityKind.ZONE: "开发区（新区、高新区、经开区）",
}


class MatchingForm(forms.Form):
    """The conditions of a campaign being filled in, for the count of records they match (any may be missing)."""

    authorities = forms.ModelMultipleChoiceField(
        queryset=Authority.objects.all(), to_field_name="code", required=False
    )
    period_start = DateField(required=False)
    period_end = DateField(required=False)


class SearchForm(forms.Form):
    q = forms.CharField(label="搜索", required=False, max_length=100)
    finding = forms.ChoiceField(label="核查结论", required=False, choices=[("", "全部"), *Finding.choices])


class DrawForm(forms.Form):
    seed = forms.IntegerField(
        label="复核码（一般不填）",
        required=False,
        min_value=0,
        max_value=services.SEED_LIMIT - 1,
        help_text="不填由系统随机生成并记录。须按事先公开的号码抽取（例如当众摇出的号码）时填入该号码。",
        error_messages={
            "invalid": "复核码须为整数。",
            "min_value": "复核码不能为负数。",
            "max_value": f"复核码不能大于{services.SEED_LIMIT - 1}。",
        },
    )


class FindingForm(forms.Form):
    finding = forms.ChoiceField(
        label="核查结论",
        choices=[(value, label) for value, label in Finding.choices if value != Finding.PENDING],
        widget=forms.RadioSelect,
        error_messages={"required": "请选择核查结论。"},
    )
    notes = forms.CharField(
        label="核查说明",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="信息有误或信息虚假时必填：写明问题所在。",
    )
    evidence = forms.FileField(label="核查材料（PDF、JPEG或PNG，可不传）", required=False)
    correction_due_on = DateField(
        label="通知企业更正的应答期限（可不填）",
        required=False,
        help_text="信息有误或信息虚假时可通知企业提交更正申请。",
    )


class OrderCorrectionForm(forms.Form):
    due_on = DateField(label="应答期限")
