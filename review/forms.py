"""The decision forms of the review page. They only carry what the reviewer typed; what is allowed (a comment
required to return, a reason to reject, the record still in the state the page showed) is review.services'."""

from django import forms

from projects import rules
from projects.models import STAGE_ORDER, BackfillWindow, Status
from projects.services import PROJECT_EDITABLE_FIELDS

from . import selectors, services
from .models import RejectionGround

COMMENT_ROWS = 3
WHOLE_PROJECT = ":"


def comment_targets(stages=STAGE_ORDER) -> list:
    """Where a return comment can be pinned, as one select grouped by stage: "stage:field" ("" = the project).
    `stages`: the record's (a design record's three); a posted form accepts any stage (review.services checks)."""
    project_fields = [
        f for f in selectors.section_fields(selectors.PROJECT) if f.name in PROJECT_EDITABLE_FIELDS
    ]
    choices = [
        (
            rules.STAGE_LABELS[selectors.PROJECT],
            [(WHOLE_PROJECT, "项目整体"), *[(f":{f.name}", str(f.verbose_name)) for f in project_fields]],
        )
    ]
    for code in stages:
        label = rules.STAGE_LABELS[code]
        choices.append(
            (
                label,
                [
                    (f"{code}:", f"{label}（整个环节）"),
                    (f"{code}:evidence", f"{label}·证明材料"),
                    *[
                        (f"{code}:{f.name}", f"{label}·{f.verbose_name}")
                        for f in selectors.section_fields(code)
                    ],
                ],
            )
        )
    return choices


class DecisionForm(forms.Form):
    # The status the page showed: a decision on a record that changed meanwhile is refused (review.services).
    expected_status = forms.ChoiceField(choices=Status.choices, widget=forms.HiddenInput)


class ApproveForm(DecisionForm):
    comment = forms.CharField(
        label="审核意见（可不填）", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReturnForm(DecisionForm):
    """A fixed set of comment rows; blank rows are ignored, at least one must be written (the service says so)."""

    def __init__(self, *args, stages=STAGE_ORDER, **kwargs):
        super().__init__(*args, **kwargs)
        targets = comment_targets(stages)
        for i in range(1, COMMENT_ROWS + 1):
            self.fields[f"target_{i}"] = forms.ChoiceField(
                label=f"意见{i}针对", choices=targets, initial=WHOLE_PROJECT, required=False
            )
            self.fields[f"text_{i}"] = forms.CharField(
                label=f"意见{i}", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
            )

    def rows(self):
        return [(self[f"target_{i}"], self[f"text_{i}"]) for i in range(1, COMMENT_ROWS + 1)]

    def comments(self) -> list[dict]:
        """The rows, then any number of comments the page attached by choosing a field (comment_target /
        comment_text pairs, "stage:field"); a target that names no field is refused by review.services."""
        comments = []
        for i in range(1, COMMENT_ROWS + 1):
            stage, _, field = (self.cleaned_data.get(f"target_{i}") or WHOLE_PROJECT).partition(":")
            comments.append({"stage": stage, "field": field, "text": self.cleaned_data.get(f"text_{i}", "")})
        targets, texts = self.data.getlist("comment_target"), self.data.getlist("comment_text")
        for target, text in zip(targets, texts, strict=False):
            stage, _, field = (target or WHOLE_PROJECT)[:100].partition(":")
            comments.append({"stage": stage, "field": field, "text": text[:2000]})
        return comments


class RejectForm(DecisionForm):
    ground = forms.ChoiceField(
        label="理由类别", choices=[("", "（请选择）"), *RejectionGround.choices], required=False
    )
    reason = forms.CharField(
        label="不予受理的理由（必填）",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # A final decision: the reviewer confirms it (review/admin.py refuses a reject without this box ticked).
    confirmed = forms.BooleanField(label="我已核实，确认作出不予受理的最终决定", required=False)


class ObjectionOutcomeForm(forms.Form):
    """Dismiss or uphold a public objection. The outcome is required (publicity.services says so): the objector
    reads it by reference number."""

    outcome = forms.CharField(
        label="处理意见（必填，异议人凭受理编号可查看）",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "required": True}),
    )


class BackfillWindowForm(forms.ModelForm):
    """The city's edit of a backfill window: extend only (review.services.window_change_problems)."""

    class Meta:
        model = BackfillWindow
        fields = ["enterprise_kind", "opens_on", "closes_on", "basis", "drawings_reviewed_by"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("opens_on") and cleaned.get("closes_on"):
            # Before _post_clean, self.instance still holds the stored dates.
            current = self.instance if self.instance.pk else None
            problems = services.window_change_problems(
                current, cleaned["opens_on"], cleaned["closes_on"], cleaned.get("drawings_reviewed_by")
            )
            if problems:
                raise forms.ValidationError(problems)
        return cleaned
