"""Forms of the public pages: search and filters, the objection form (with its honeypot), the lookup."""

from html import escape

from django import forms
from django.utils.choices import BaseChoiceIterator
from django.utils.functional import cached_property
from django.utils.safestring import mark_safe

from backfill_portal.kept import Kept
from projects import files
from projects.forms import DateField
from projects.models import IN_SCOPE_PROJECT_TYPES, ProjectType

from .models import Objection

HONEYPOT_FIELD = "website"
# The codes of projects.files.sniff_type's refusals: shown beside the file field.
EVIDENCE_ERROR_CODES = files.REFUSAL_CODES


class KeptChoices(BaseChoiceIterator):
    """Choices already as (value, label) pairs: Django normalises a list given to a ChoiceField on every form
    (both the field and its widget), a BaseChoiceIterator it takes as it is."""

    def __init__(self, pairs):
        self.pairs = pairs

    def __iter__(self):
        return iter(self.pairs)


# The search form's fields and the selects' options as HTML, per process: the same for every visitor until an
# authority changes (publicity/authorities.py gives the rows; a change gives other rows, so another key).
KEPT_LIMIT = 64
_kept_fields = Kept(KEPT_LIMIT)
_kept_options = Kept(KEPT_LIMIT)

PROJECT_TYPE_CHOICES = KeptChoices(
    (("", "全部类型"), *((t.value, t.label) for t in ProjectType if t in IN_SCOPE_PROJECT_TYPES))
)


def search_fields(authority_pairs: tuple) -> dict:
    """PublicSearchForm's fields for these authorities' (code, name) pairs, in the order the page lists their
    errors."""
    return {
        "q": forms.CharField(label="搜索", required=False, max_length=100),
        "authority": forms.ChoiceField(
            label="审核部门", required=False, choices=KeptChoices((("", "全部审核部门"), *authority_pairs))
        ),
        "project_type": forms.ChoiceField(label="项目类型", required=False, choices=PROJECT_TYPE_CHOICES),
        "date_from": DateField(label="起始日期", required=False),
        "date_to": DateField(label="截止日期", required=False),
    }


class PublicSearchForm(forms.Form):
    """Search and filters of /notices/ and /library/. The authority choices come from the view's one query
    (the authority's code in the URL, e.g. ?authority=500103), so the form itself reads nothing.

    Its fields (search_fields) are made once per process for a list of authorities and shared by every form of
    that list, instead of declared on the class and deep-copied by Django for each form (the copy, with the
    authorities' choices set on it, was a tenth of an uncached /notices/: bench/README.md). Shared because they
    are only read: validated against, their choices listed by options(); the page never renders their widgets and
    nothing changes a field once made."""

    def __init__(self, *args, authorities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.authorities_by_code = {a.code: a for a in authorities}
        pairs = tuple((a.code, a.name) for a in authorities)
        self._choices_key = {"authority": pairs, "project_type": None}
        self.fields = _kept_fields.made(pairs, lambda: search_fields(pairs))

    def value(self, name) -> str:
        """The value as typed (the page shows back what was asked, valid or not)."""
        return self.data.get(name, "") if self.is_bound else ""

    @cached_property
    def typed(self) -> dict:
        """value() of the text and date boxes, for the template: a name absent from the query string is "" here,
        where `form.data.q` cost the template engine an exception, a dir() and a log call (bench/README.md)."""
        return {name: self.value(name) for name in ("q", "date_from", "date_to")}

    def options(self, name):
        """A select's options as HTML, built in Python: Django's widget templates render each of the 43
        authorities through two template includes, which costs more than the rest of the page; and an f-string a
        option, not format_html, whose escaping machinery was a tenth of an uncached /notices/ (bench/README.md).
        The same bytes as format_html_join gave (tests/test_public_rows.py). Kept per process for a value that
        is one of the choices (or none): what a visitor typed in the URL otherwise is not kept."""
        selected = self.value(name)
        choices = self.fields[name].choices

        def html():
            return mark_safe(
                "".join(
                    f'<option value="{escape(str(value))}"{" selected" if str(value) == selected else ""}>'
                    f"{escape(str(label))}</option>"
                    for value, label in choices
                )
            )

        if not isinstance(selected, str) or (selected and not self.fields[name].valid_value(selected)):
            return html()
        return _kept_options.made((name, self._choices_key[name], selected), html)

    def authority_options(self):
        return self.options("authority")

    def project_type_options(self):
        return self.options("project_type")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "截止日期不能早于起始日期。")
        return cleaned

    def filters(self) -> dict:
        """Keyword arguments for selectors.search; no filter at all when the form is invalid."""
        if not self.is_bound or not self.is_valid():
            return {}
        data = self.cleaned_data
        authority = self.authorities_by_code.get(data["authority"])
        return {
            "q": data["q"],
            "authority_id": authority.id if authority else None,
            "project_type": data["project_type"],
            "date_from": data["date_from"],
            "date_to": data["date_to"],
        }


class ObjectionForm(forms.Form):
    """What the public fills in. Lengths and required fields here; markup and the evidence file's type are
    checked by publicity.services.file_objection (the model's validators, the type sniffed by content)."""

    name = forms.CharField(label="异议人姓名或单位", max_length=100)
    contact = forms.CharField(
        label="联系方式",
        max_length=100,
        help_text="电话或电子邮箱，仅供审核部门核实联系，不会公开。",
    )
    reason = forms.CharField(
        label="异议事实和理由",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="请写明异议的具体事实、理由和依据。",
    )
    evidence = forms.FileField(
        label="证明材料（可选）",
        required=False,
        help_text="PDF、JPEG或PNG格式，按文件内容识别；不会公开。",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )
    # The honeypot: hidden from people (off screen, out of the tab order), filled in by form-filling bots.
    website = forms.CharField(
        label="网址（请勿填写）",
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.error_messages["required"] = "此项为必填项。"
        self.fields["name"].error_messages["max_length"] = "不能超过100个字。"
        self.fields["contact"].error_messages["max_length"] = "不能超过100个字。"
        self.fields["reason"].error_messages["max_length"] = "不能超过5000个字。"
        self.fields["evidence"].error_messages["empty"] = "文件为空，请重新选择。"

    @property
    def is_bot(self) -> bool:
        return bool((self.data.get(HONEYPOT_FIELD) or "").strip())

    def add_service_errors(self, error):
        """A ValidationError from the service, shown beside the field it names (else at the top)."""
        fields = {f.name for f in Objection._meta.fields} & set(self.fields)
        if hasattr(error, "error_dict"):
            for name, errors in error.error_dict.items():
                self.add_error(name if name in fields else None, errors)
        else:
            codes = {e.code for e in error.error_list}
            self.add_error("evidence" if codes & EVIDENCE_ERROR_CODES else None, error)


class LookupForm(forms.Form):
    reference = forms.CharField(label="受理编号", max_length=30)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reference"].error_messages["required"] = "请输入受理编号。"
