"""What the API answers, field by field: the views build plain dicts and these render them, so the OpenAPI schema
and the responses are one definition. Free-form parts (a stage's fields, a snapshot's sections) are JSON objects."""

from rest_framework import serializers

from projects.models import STAGE_ORDER, EvidencePart, ProjectKind, Status


class Authority(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class Finding(serializers.Serializer):
    code = serializers.CharField(help_text="规则代码（docs/rules.md）")
    category = serializers.CharField()
    severity = serializers.ChoiceField(choices=["error", "warning"])
    stage = serializers.CharField()
    field = serializers.CharField(allow_blank=True)
    message = serializers.CharField()


class Evidence(serializers.Serializer):
    id = serializers.IntegerField()
    stage = serializers.ChoiceField(choices=STAGE_ORDER)
    part = serializers.CharField(
        allow_blank=True, help_text="该环节要求多份材料时是哪一份（EvidencePart），否则为空"
    )
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    uploaded_at = serializers.DateTimeField()


class Comment(serializers.Serializer):
    id = serializers.IntegerField()
    stage = serializers.CharField(allow_blank=True)
    field = serializers.CharField(allow_blank=True)
    where = serializers.CharField()
    text = serializers.CharField()
    author_organisation = serializers.CharField()
    created_at = serializers.DateTimeField()
    open = serializers.BooleanField(help_text="尚未被重新提交所回应")


class ProjectSummary(serializers.Serializer):
    id = serializers.IntegerField()
    project_number = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(
        choices=ProjectKind.choices, help_text="construction 施工项目，design 设计项目"
    )
    kind_label = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    status_label = serializers.CharField()
    authority = Authority()
    updated_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)


class Project(ProjectSummary):
    values = serializers.JSONField(help_text="项目基本信息（字段名同 ProjectInput）")
    stages = serializers.JSONField(
        help_text="该类项目的各环节（施工项目六个，设计项目三个）：环节代码 → 字段值，未填写的为 null"
    )
    evidence = Evidence(many=True)
    comments = Comment(many=True)
    restriction = serializers.CharField(
        allow_null=True, help_text="企业受到的限制（如列入黑名单），无则为 null"
    )


class Stage(serializers.Serializer):
    stage = serializers.ChoiceField(choices=STAGE_ORDER)
    label = serializers.CharField()
    filled = serializers.BooleanField()
    values = serializers.JSONField(allow_null=True)
    required_fields = serializers.ListField(child=serializers.CharField())
    required_evidence = serializers.JSONField()
    evidence_parts = serializers.ListField(
        child=serializers.ChoiceField(choices=EvidencePart.choices),
        help_text="要求多份材料时，上传时用 part 指明的各份",
    )
    warnings = serializers.ListField(child=serializers.CharField())


class SelfCheck(serializers.Serializer):
    project_id = serializers.IntegerField()
    errors = serializers.IntegerField()
    warnings = serializers.IntegerField()
    can_submit = serializers.BooleanField()
    rule_count = serializers.IntegerField()
    findings = Finding(many=True)


class TimelineStep(serializers.Serializer):
    when = serializers.DateTimeField(allow_null=True)
    label = serializers.CharField()
    organisation = serializers.CharField()
    message = serializers.CharField(allow_blank=True)
    days = serializers.IntegerField(allow_null=True)
    limit = serializers.IntegerField(allow_null=True)
    late = serializers.BooleanField()


class Receipt(serializers.Serializer):
    number = serializers.CharField()
    issued_at = serializers.DateTimeField()


class ProjectStatus(serializers.Serializer):
    id = serializers.IntegerField()
    project_number = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    status_label = serializers.CharField()
    national_id = serializers.CharField(allow_null=True, help_text="进入全国平台项目库后的编号")
    timeline = TimelineStep(many=True)
    receipts = Receipt(many=True)


class HistoryChange(serializers.Serializer):
    label = serializers.CharField()
    before = serializers.CharField(allow_null=True)
    after = serializers.CharField(allow_null=True)


class HistoryRow(serializers.Serializer):
    occurred_at = serializers.DateTimeField()
    actor = serializers.CharField()
    organisation = serializers.CharField(allow_blank=True)
    ip_address = serializers.CharField(allow_blank=True)
    summary = serializers.CharField()
    refused = serializers.BooleanField()
    changes = HistoryChange(many=True)


class TransitionInput(serializers.Serializer):
    expected_status = serializers.ChoiceField(
        choices=Status.choices, required=False, help_text="调用方看到的状态：状态已变时拒绝（409）"
    )


class CorrectionItemInput(serializers.Serializer):
    stage = serializers.CharField(allow_blank=True, help_text="环节代码；空为项目基本信息")
    field = serializers.CharField()
    proposed_value = serializers.CharField(allow_blank=True)
    reason = serializers.CharField()


class CorrectionInput(serializers.Serializer):
    statement = serializers.CharField()
    items = serializers.CharField(help_text="更正事项的 JSON 数组：[{stage, field, proposed_value, reason}]")
    evidence = serializers.ListField(
        child=serializers.FileField(), help_text="证明材料（PDF、JPEG、PNG），可多份"
    )


class Correction(serializers.Serializer):
    reference = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    project_id = serializers.IntegerField()


class EvidenceInput(serializers.Serializer):
    file = serializers.FileField()
    description = serializers.CharField(required=False, allow_blank=True, max_length=200)
    part = serializers.ChoiceField(
        choices=EvidencePart.choices,
        required=False,
        allow_blank=True,
        help_text="设计项目施工图审查的材料：certificate 审查合格书，cover_sheet 图签页（盖章）",
    )


# ---------------------------------------------------------------- review


class QueueRow(serializers.Serializer):
    id = serializers.IntegerField()
    project_number = serializers.CharField()
    name = serializers.CharField()
    enterprise_name = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    submitted_at = serializers.DateTimeField(allow_null=True)
    assigned_to_me = serializers.BooleanField()
    reviewer = serializers.CharField(allow_blank=True)
    waited_working_days = serializers.IntegerField()
    limit_working_days = serializers.IntegerField()
    overdue = serializers.BooleanField()


class FieldChange(serializers.Serializer):
    stage = serializers.CharField()
    field = serializers.CharField()
    label = serializers.CharField()
    before = serializers.CharField(allow_blank=True)
    after = serializers.CharField(allow_blank=True)


class Decision(serializers.Serializer):
    decision = serializers.CharField()
    ground = serializers.CharField(allow_blank=True)
    reason = serializers.CharField(allow_blank=True)
    authority_name = serializers.CharField(allow_blank=True)
    decided_at = serializers.DateTimeField()
    version = serializers.IntegerField(allow_null=True)


class ReviewRecord(ProjectSummary):
    enterprise = serializers.JSONField()
    values = serializers.JSONField()
    stages = serializers.JSONField()
    evidence = Evidence(many=True)
    findings = Finding(many=True)
    errors = serializers.IntegerField()
    warnings = serializers.IntegerField()
    comments = Comment(many=True)
    decisions = Decision(many=True)
    changes_since_previous_submission = FieldChange(many=True)
    may_decide = serializers.BooleanField()


class ApproveInput(TransitionInput):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class ReturnCommentInput(serializers.Serializer):
    stage = serializers.CharField(required=False, allow_blank=True)
    field = serializers.CharField(required=False, allow_blank=True)
    text = serializers.CharField(max_length=2000)


class ReturnInput(TransitionInput):
    comments = ReturnCommentInput(many=True)


class RejectInput(TransitionInput):
    ground = serializers.CharField()
    reason = serializers.CharField(max_length=2000)


# ---------------------------------------------------------------- public


class PublicRow(serializers.Serializer):
    project_number = serializers.CharField()
    project_name = serializers.CharField()
    enterprise_name = serializers.CharField()
    authority_name = serializers.CharField()
    project_type = serializers.CharField()
    project_type_label = serializers.CharField()


class NoticeRow(PublicRow):
    id = serializers.IntegerField()
    state = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends = serializers.CharField(help_text="公示截止（北京时间）")
    days_left = serializers.IntegerField()
    paused = serializers.BooleanField()


class Section(serializers.Serializer):
    label = serializers.CharField()
    rows = serializers.ListField(child=serializers.ListField(child=serializers.CharField(allow_blank=True)))


class Notice(NoticeRow):
    snapshot_version = serializers.IntegerField()
    content_hash = serializers.CharField()
    sections = Section(many=True)


class LibraryRow(PublicRow):
    national_id = serializers.CharField()
    national_version = serializers.IntegerField()
    entered_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField(allow_null=True)


class Version(serializers.Serializer):
    version = serializers.IntegerField()
    content_hash = serializers.CharField()
    created_at = serializers.DateTimeField()
    notice_state = serializers.CharField(allow_null=True)


class LibraryEntry(LibraryRow):
    snapshot_version = serializers.IntegerField()
    sections = Section(many=True)
    versions = Version(many=True)


class PerformanceRecord(serializers.Serializer):
    national_id = serializers.CharField()
    project_number = serializers.CharField()
    project_name = serializers.CharField()
    enterprise_name = serializers.CharField()
    enterprise_credit_code = serializers.CharField()
    entered_at = serializers.DateTimeField()
    figures = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))
    documents = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))
    versions = serializers.ListField(child=serializers.IntegerField())


class BlacklistRow(serializers.Serializer):
    enterprise_name = serializers.CharField()
    credit_code = serializers.CharField()
    reason = serializers.CharField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
