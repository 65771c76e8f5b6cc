"""Forms of the blacklist and ledger pages. They clean what the user typed; who may act and what a listing or a
deduction must hold stay with the services (integrity/services.py)."""

from django import forms

from projects.forms import DateField


class BlacklistSearchForm(forms.Form):
    credit_code = forms.CharField(label="统一社会信用代码", required=False, max_length=40)
    name = forms.CharField(label="企业名称", required=False, max_length=100)
    scope = forms.ChoiceField(
        label="范围", required=False, choices=[("", "列入中"), ("all", "全部（含已届满、已移出）")]
    )


class BlacklistForm(forms.Form):
    reason = forms.CharField(label="列入原因", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    starts_on = DateField(label="列入日期")
    ends_on = DateField(label="届满日期")


class ReasonForm(forms.Form):
    reason = forms.CharField(label="移出原因", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class EnterpriseSearchForm(forms.Form):
    q = forms.CharField(label="企业名称或统一社会信用代码", required=False, max_length=100)


class DeductionForm(forms.Form):
    points = forms.DecimalField(label="扣分", max_digits=5, decimal_places=1, min_value=0.1)
    reason = forms.CharField(label="扣分原因", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    source_item = forms.IntegerField(label="依据的抽查事项编号（可不填）", required=False, min_value=1)
