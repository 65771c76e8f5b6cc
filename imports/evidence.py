"""Evidence in bulk: a zip whose paths are `<序号 or project number>/<stage>/<file>` (docs/import.md). Where a stage
asks for several documents (a design record's drawing review: the certificate and the drawings' cover sheet), the
folder names the document instead: `<key>/施工图审查合格书/<file>`.

Each file is read within bounds (its declared size, the archive's total, the ratio of a bomb), checked by content
as a single upload is (projects.files.check_upload, through projects.services.add_evidence), and reported one by
one. A file already stored for that stage (the same SHA-256) is not stored again, so a re-run adds nothing.
"""

import posixpath
import zipfile

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from projects import audit, rules, services
from projects.models import STAGE_ORDER, Evidence, EvidencePart, RecordLocked

from .reading import MAX_RATIO

STAGES_BY_NAME = {rules.STAGE_LABELS[code]: code for code in STAGE_ORDER} | {
    code: code for code in STAGE_ORDER
}
PARTS_BY_NAME = {part.label: part.value for part in EvidencePart} | {
    part.value: part.value for part in EvidencePart
}


def target_of(project, folder) -> tuple[str, str] | str:
    """(stage code, evidence part) a folder names for `project`, or the Chinese reason it names none."""
    folder = folder.strip()
    for code in project.stage_codes:
        parts = rules.evidence_parts(project, code)
        if folder in PARTS_BY_NAME and PARTS_BY_NAME[folder] in parts:
            return code, PARTS_BY_NAME[folder]
        if STAGES_BY_NAME.get(folder) == code:
            if parts:
                labels = "”或“".join(EvidencePart(part).label for part in parts)
                return f"“{rules.STAGE_LABELS[code]}”的证明材料请放在“{labels}”目录下。"
            return code, ""
    names = []
    for code in project.stage_codes:
        parts = rules.evidence_parts(project, code)
        names += [EvidencePart(part).label for part in parts] or [rules.STAGE_LABELS[code]]
    return f"“{folder}”不是{project.get_kind_display()}的环节名称（应为：{'、'.join(names)}）。"


def result(path, outcome, message, project=None):
    labels = {"stored": "已保存", "duplicate": "已存在，未重复保存", "refused": "未保存"}
    return {
        "path": path[:300],
        "outcome": outcome,
        "outcome_label": labels[outcome],
        "message": message,
        "project_number": project.project_number if project else "",
    }


def import_evidence_zip(*, actor, archive, projects_by_key) -> list[dict]:
    try:
        bundle = zipfile.ZipFile(archive)
        members = [m for m in bundle.infolist() if not m.is_dir()]
    except zipfile.BadZipFile:
        return [result("（压缩包）", "refused", "证明材料压缩包已损坏或不是.zip文件。")]
    total = sum(m.file_size for m in members)
    if total > settings.IMPORT_MAX_UNCOMPRESSED_BYTES * 4 or len(members) > settings.IMPORT_MAX_ROWS * 20:
        return [
            result(
                "（压缩包）",
                "refused",
                "证明材料压缩包解压后过大或文件过多（可能是“压缩炸弹”），已拒绝读取。",
            )
        ]
    results = []
    for member in members:
        results.append(import_member(actor, bundle, member, projects_by_key))
    return results


def member_name(member) -> str:
    # Zips made on Chinese Windows name files in GBK without the UTF-8 flag; zipfile then decodes as cp437.
    if member.flag_bits & 0x800:
        return member.filename
    try:
        return member.filename.encode("cp437").decode("gbk")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return member.filename


def import_member(actor, bundle, member, projects_by_key) -> dict:
    path = member_name(member).replace("\\", "/")
    parts = path.split("/")
    if path.startswith("/") or ".." in parts or posixpath.isabs(path) or ":" in parts[0]:
        return result(path, "refused", "路径不安全（含“..”或绝对路径），已拒绝。")
    if len(parts) != 3 or not all(parts):
        return result(
            path, "refused", "路径应为“序号（或项目编号）/环节名称/文件名”，如“1/项目报建/立项批文.pdf”。"
        )
    key, stage_name, file_name = parts
    project = projects_by_key.get(key.strip())
    if project is None:
        return result(path, "refused", f"本次导入中没有序号或项目编号为“{key}”的已导入项目。")
    target = target_of(project, stage_name)
    if isinstance(target, str):
        return result(path, "refused", target, project)
    stage_code, part = target
    limit = settings.EVIDENCE_MAX_BYTES
    if member.file_size > limit or member.file_size > MAX_RATIO * max(member.compress_size, 1) + 65536:
        return result(path, "refused", "文件过大或压缩比异常（可能是“压缩炸弹”），已拒绝。", project)
    with bundle.open(member) as source:
        content = source.read(limit + 1)
    if len(content) > limit:
        return result(path, "refused", "文件超过大小上限，已拒绝。", project)
    upload = SimpleUploadedFile(file_name, content)
    from projects.files import sha256_of

    digest = sha256_of(upload)
    upload.seek(0)
    if Evidence.objects.filter(
        project=project, stage=stage_code, part=part, sha256=digest, archived_at__isnull=True
    ).exists():
        return result(path, "duplicate", "该环节已有相同文件。", project)
    try:
        services.add_evidence(
            actor=actor,
            project=project,
            stage_code=stage_code,
            uploaded_file=upload,
            description="批量导入",
            part=part,
        )
    except (ValidationError, PermissionDenied, RecordLocked) as refusal:
        return result(path, "refused", audit.refusal_message(refusal), project)
    where = f"“{rules.STAGE_LABELS[stage_code]}”环节" + (f"（{EvidencePart(part).label}）" if part else "")
    return result(path, "stored", f"已保存到{where}。", project)
