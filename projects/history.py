"""A record's history as people read it: each AuditEvent turned into one display row (docs/permissions.md, "Who
sees what in a history").

Every history page (the enterprise's, the reviewer's, the city's) renders rows from rows_for(); the trail itself
(projects.audit) stays as written, codes and all: this module only decides how an event reads and what of it the
viewer may see.

- What happened, in plain Chinese: ACTIONS is the one vocabulary, an action code → its label; a few actions say
  more (which file, which comments) through SUMMARIES.
- Values as on the forms: a choice as its label, a date as 2016-03-01, a time in Beijing time, a yes/no as 是/否, a
  related row by its name, a size as 1.2MB. Hashes are not values: they sit behind a 校验值 detail.
- Who sees what: the enterprise never sees where people of other organisations acted from (reviewers' IP
  addresses) nor anything of an objector (IP address, name, contact, the objection's reference); a reviewer sees
  its own authority's records whole (visible_projects decides which); the city sees all.
"""

import datetime
import re
from dataclasses import dataclass, field

from django.apps import apps
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from . import permissions, rules
from .files import size_label
from .models import STAGE_MODELS, AuditEvent, Project

# The vocabulary: one label per action code. An action not listed reads as 其他操作 (never its code).
ACTIONS = {
    "project.create": "新建补录项目",
    "project.update": "修改项目基本信息",
    "project.submit": "提交审核",
    "project.withdraw": "撤回提交",
    "project.view": "查看项目",
    "project.history": "查看操作记录",
    "project.self_check": "自查",
    "stage.create": "填写环节信息",
    "stage.update": "修改环节信息",
    "stage.save": "保存环节信息",
    "evidence.add": "上传证明材料",
    "evidence.archive": "删除证明材料",
    "evidence.view": "查看证明材料",
    "review.assign": "分派审核人员",
    "review.route": "分派设计项目的审核单位",
    "review.route.view": "查看待分派的设计项目",
    "notice.skip": "设计项目不公示，报送入库",
    "review.approve": "审核通过",
    "review.return": "退回修改",
    "review.reject": "不予受理",
    "notice.start": "开始公示",
    "notice.close": "公示期满无异议",
    "objection.receive": "收到公众异议",
    "objection.dismiss": "异议不成立",
    "objection.uphold": "异议成立",
    "national.failed": "报送全国平台失败",
    "national.refused": "全国平台退回（校验未通过）",
    "national.discrepancy": "报送核对发现差异",
    "national.retry": "重新报送全国平台",
    "national.entered": "进入全国平台项目库",
    "correction.file": "申请更正",
    "correction.withdraw": "撤回更正申请",
    "correction.opinion": "区县核查更正申请",
    "correction.decide": "审定更正申请",
    "correction.decline": "不同意更正",
    "correction.approve": "同意更正",
    "correction.order": "发出更正通知",
    "spot_check.create": "创建抽查任务",
    "spot_check.draw": "抽取抽查项目",
    "spot_check.finding": "记录抽查结论",
    "spot_check.order_correction": "抽查后通知更正",
    "integrity.blacklist": "列入黑名单",
    "integrity.lift": "移出黑名单",
    "integrity.deduct": "诚信扣分",
    "reuse.view": "查看重复使用的证明材料",
    "national.view": "查看全国平台退回与报送核对",
    # Sign-in and the administrators (docs/security.md): not about a record, read in the audit administrator's list.
    "two_factor.enrol": "开启二次验证",
    "two_factor.verify": "二次验证登录",
    "two_factor.recovery_code": "使用恢复码登录",
    "two_factor.locked": "二次验证被锁定",
    "two_factor.reset": "重置二次验证",
    "two_factor.unlock": "解除二次验证锁定",
    "account.unlock": "解除登录锁定",
    "superuser.login": "超级管理员登录",
    "admin.add": "管理后台新增",
    "admin.change": "管理后台修改",
    "admin.delete": "管理后台删除",
    "audit.export": "导出审计记录",
    "audit.verify": "核验审计链",
    "audit.anchor": "锚定审计链头",
    # The open API's personal tokens (api/tokens.py): events of the user, on no record.
    "api_token.create": "创建接口令牌",
    "api_token.revoke": "吊销接口令牌",
    "api_token.use": "使用接口令牌",
}
REFUSED = ".refused"

# What the objector gave or was given: never shown to the enterprise (the objection form promises it).
OBJECTION_ACTIONS = {"objection.receive", "objection.dismiss", "objection.uphold"}
# The enterprise reads these events without their message (it names the objection's reference).
ENTERPRISE_OBJECTION_TEXT = {
    "objection.receive": "收到公众异议，公示暂停计时",
    "objection.dismiss": "公众异议经核查不成立",
    "objection.uphold": "公众异议经核查成立，公示终止，退回企业修改",
}

# Changes shown in the summary, not as a change row (or not at all: a MIME type says nothing to a reader).
HIDDEN_CHANGES = {"comments", "content_type", "sha256", "stage", "original_name"}
CHECKSUM_CHANGES = {"sha256", "snapshot"}
LABELS = {
    "comments": "审核意见",
    "snapshot": "公示快照",
    "ends_at": "公示截止时间",
    "national_id": "全国平台编号",
    "reviewer": "审核人员",
    "size": "文件大小",
    "archived_at": "删除时间",
    "district_accepts": "区县意见",
    "points": "扣分",
    "lifted_at": "移出时间",
}
ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class Change:
    label: str
    before: str | None  # None: there was no value before (a new value), shown without a "before"
    after: str


@dataclass
class HistoryRow:
    event: AuditEvent
    occurred_at: datetime.datetime
    actor: str
    organisation: str
    ip_address: str
    summary: str
    changes: list[Change] = field(default_factory=list)
    checksums: list[tuple[str, str]] = field(default_factory=list)
    refused: bool = False


# ---------------------------------------------------------------- who sees what


def _sees_everything(user, project) -> bool:
    return permissions.is_city(user) or permissions.reviewer_of(user, project)


def _own_clerk(event, project) -> bool:
    """The event's actor is a clerk of the record's enterprise (membership selected with the event)."""
    actor = event.actor
    membership = getattr(actor, "membership", None) if actor is not None else None
    return membership is not None and membership.enterprise_id == project.enterprise_id


# ---------------------------------------------------------------- values as on the forms


def _model_of(object_type: str):
    if not object_type:
        return None
    for model in apps.get_models():
        if model._meta.model_name == object_type:
            return model
    return None


def _field(model, name):
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except Exception:  # a change that is not a field of the model (e.g. the comments of a return)
        return None


def format_value(value, model_field=None, related=None) -> str:
    """A stored value (projects.audit.serialise's JSON) as the forms show it."""
    if value is None or value == "":
        return "（空）"
    if model_field is not None and model_field.choices:
        choices = {str(key): str(text) for key, text in model_field.flatchoices}
        return choices.get(str(value), str(value))
    if model_field is not None and model_field.is_relation and related is not None:
        return related.get((model_field.related_model, value), "（已不存在）")
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list | tuple):
        return "；".join(format_value(item) for item in value)
    if isinstance(value, dict):
        return "；".join(f"{key}：{format_value(item)}" for key, item in value.items())
    if isinstance(value, str) and ISO_DATETIME.match(value):
        moment = parse_datetime(value)
        if moment is not None:
            if timezone.is_aware(moment):
                moment = timezone.localtime(moment)
            return f"{moment:%Y-%m-%d %H:%M}"
    if isinstance(value, str) and ISO_DATE.match(value) and parse_date(value):
        return value
    return str(value)


def _end_text(value) -> str:
    """A notice's end as the notice rule says it: 00:00 Beijing time reads as 24:00 of the day before."""
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is None:
        return format_value(value)
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    if local.time() == datetime.time.min:
        return f"{local.date() - datetime.timedelta(days=1):%Y-%m-%d} 24:00"
    return f"{local:%Y-%m-%d %H:%M}"


def _related_names(events, models_by_type) -> dict:
    """{(model, pk): name} for every related row the events' changes name: one query per related model."""
    wanted: dict = {}
    for event in events:
        model = models_by_type.get(event.object_type)
        for name, pair in (event.changes or {}).items():
            model_field = _field(model, name)
            if name in CHECKSUM_CHANGES or model_field is None or not model_field.is_relation:
                continue
            if model_field.many_to_many:
                continue
            for value in _pair(pair):
                if isinstance(value, int) and not isinstance(value, bool):
                    wanted.setdefault(model_field.related_model, set()).add(value)
    names = {}
    for related_model, pks in wanted.items():
        for row in related_model._default_manager.filter(pk__in=pks):
            label = row.get_username() if hasattr(row, "get_username") else str(row)
            names[(related_model, row.pk)] = label
    return names


def _pair(pair):
    if isinstance(pair, list | tuple) and len(pair) == 2:
        return pair[0], pair[1]
    return None, pair


def _changes(event, model, related) -> tuple[list[Change], list[tuple[str, str]]]:
    changes, checksums = [], []
    for name, pair in (event.changes or {}).items():
        before, after = _pair(pair)
        if name in CHECKSUM_CHANGES:
            checksum = str(after or "").split()[-1] if after else ""
            if checksum:
                checksums.append((LABELS.get(name, "SHA-256"), checksum))
            if name == "snapshot" and after:
                changes.append(Change("公示快照", None, f"第{str(after).split()[0].lstrip('v')}版"))
            continue
        if name in HIDDEN_CHANGES:
            continue
        if name == "size":
            changes.append(
                Change(LABELS[name], None, size_label(int(after)) if after is not None else "（空）")
            )
            continue
        if (
            name == "ends_at"
        ):  # a notice ends at 24:00 of its last day, written so everywhere (docs/domain.md)
            changes.append(Change(LABELS[name], None, _end_text(after)))
            continue
        model_field = _field(model, name)
        label = str(model_field.verbose_name) if model_field is not None else LABELS.get(name, "其他")
        changes.append(
            Change(
                label,
                format_value(before, model_field, related) if before is not None else None,
                format_value(after, model_field, related),
            )
        )
    return changes, checksums


# ---------------------------------------------------------------- what happened, in words


def _stage_label(code) -> str:
    return rules.STAGE_LABELS.get(code or rules.PROJECT, "")


def comment_line(item) -> str:
    """A return comment as the enterprise reads it: 环节·字段：意见."""
    stage = item.get("stage") or ""
    where = _stage_label(stage)
    name = item.get("field") or ""
    if name == "evidence":
        where += "·证明材料"
    elif name:
        model_field = _field(STAGE_MODELS.get(stage, Project) if stage else Project, name)
        if model_field is not None:
            where += f"·{model_field.verbose_name}"
    return f"{where}：{item.get('text', '')}"


def _summary_return(event) -> str:
    _before, comments = _pair((event.changes or {}).get("comments", [None, []]))
    lines = [comment_line(item) for item in comments or [] if isinstance(item, dict)]
    return "退回修改：" + ("；".join(lines) if lines else event.message)


def _summary_evidence(event) -> str:
    changes = event.changes or {}
    _b, name = _pair(changes.get("original_name", [None, ""]))
    _b, stage = _pair(changes.get("stage", [None, ""]))
    where = f"（{_stage_label(stage)}）" if stage else ""
    return f"上传证明材料：{name}{where}" if name else "上传证明材料"


def _summary_stage(event) -> str:
    verb = "填写" if event.action == "stage.create" else "修改"
    return f"{verb}{event.message}" if event.message else ACTIONS[event.action]


SUMMARIES = {
    "review.return": _summary_return,
    "evidence.add": _summary_evidence,
    "stage.create": _summary_stage,
    "stage.update": _summary_stage,
}


def summary_of(event, *, hide_objector: bool) -> tuple[str, bool]:
    """(the event in one line of plain Chinese, whether it was a refusal)."""
    action = event.action
    refused = action.endswith(REFUSED)
    base = action[: -len(REFUSED)] if refused else action
    label = ACTIONS.get(base, "其他操作")
    if refused:
        return f"未获准：{label}" + (f"（{event.message}）" if event.message else ""), True
    if hide_objector and base in OBJECTION_ACTIONS:
        return ENTERPRISE_OBJECTION_TEXT[base], False
    if base in SUMMARIES:
        return SUMMARIES[base](event), False
    if base == "evidence.archive" and event.message:
        return f"删除证明材料（原因：{event.message}）", False
    if event.message and event.message != label:
        return f"{label}：{event.message}", False
    return label, False


# ---------------------------------------------------------------- the rows


def rows_for(user, project, events) -> list[HistoryRow]:
    """The rows `user` may read of `project`'s history, from its events (projects.selectors.project_history: the
    actors' memberships selected with them). The caller has checked that the user may see the record."""
    events = list(events)
    everything = _sees_everything(user, project)
    models_by_type = {event.object_type: _model_of(event.object_type) for event in events}
    related = _related_names(events, models_by_type)
    rows = []
    for event in events:
        objector = event.action.split(REFUSED)[0] in OBJECTION_ACTIONS and event.actor_id is None
        show_ip = everything or _own_clerk(event, project)
        changes, checksums = _changes(event, models_by_type.get(event.object_type), related)
        summary, refused = summary_of(event, hide_objector=not everything)
        rows.append(
            HistoryRow(
                event=event,
                occurred_at=timezone.localtime(event.occurred_at),
                actor=("公众" if objector else event.actor_username) or "系统",
                organisation=event.organisation,
                ip_address=(event.ip_address or "") if show_ip else "",
                summary=summary,
                changes=changes,
                checksums=checksums,
                refused=refused,
            )
        )
    return rows
