"""Reused evidence (docs/files.md, "Reused evidence"): the same file, or the same picture re-saved, among the
evidence of another record, of any enterprise.

A finding for the reviewer, never a block: nothing here refuses an upload or a decision.

- The same file: equal SHA-256 (computed at upload, projects.files.check_upload; indexed).
- The same picture: equal perceptual hash (imagehash's pHash of the image, docs/dependencies.md), kept in
  EvidenceFingerprint, computed when the evidence row is inserted (the post_save hook below) and, for images
  stored before, by migration review 0004. Only equal hashes are matched, so a lookup stays one index probe
  (a Hamming-distance search would read every fingerprint); a re-saved or re-encoded scan keeps its pHash.
  Pictures with almost no detail (a blank page, a one-colour image) have degenerate hashes and are not matched.

What the reviewer is told about the other record follows the console's scope: a record it may see is named and
linked; any other only said to exist, with its authority.
"""

import logging
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db.models import Count
from django.urls import reverse

from projects import permissions
from projects.models import Evidence, Project

from .models import EvidenceFingerprint

logger = logging.getLogger(__name__)

# At most this many matches are read for one record's page (a file reused hundreds of times is flagged all the same).
MATCH_LIMIT = 50
# A pHash with fewer set bits than this, or more than 64 minus this, is a picture with almost no detail.
MIN_DETAIL_BITS = 6

SAME_FILE = "same_file"
SAME_PICTURE = "same_picture"


# ---------------------------------------------------------------- fingerprints


def perceptual_hash_of(fileobj) -> str:
    """The 64-bit pHash of an image as 16 hex digits, or "" for a file that is no readable image or has almost
    no detail."""
    import imagehash
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(fileobj) as image:
            image.load()
            value = str(imagehash.phash(image))
    except (UnidentifiedImageError, OSError, ValueError):
        return ""
    bits = bin(int(value, 16)).count("1")
    if bits < MIN_DETAIL_BITS or bits > 64 - MIN_DETAIL_BITS:
        return ""
    return value


def fingerprint(evidence) -> EvidenceFingerprint | None:
    """Compute and keep an image evidence's perceptual hash (nothing for other types)."""
    if not evidence.content_type.startswith("image/"):
        return None
    try:
        with evidence.file.open("rb") as handle:
            value = perceptual_hash_of(handle)
    except OSError:
        logger.warning("evidence %s: file unreadable, no fingerprint", evidence.pk)
        return None
    if not value:
        return None
    row, _ = EvidenceFingerprint.objects.update_or_create(
        evidence=evidence, defaults={"perceptual_hash": value}
    )
    return row


def on_evidence_saved(sender, instance, created, raw=False, **kwargs):
    """post_save of Evidence (connected in ReviewConfig.ready): a new image gets its fingerprint at once."""
    if created and not raw:
        fingerprint(instance)


# ---------------------------------------------------------------- on a record's review page


@dataclass
class Reuse:
    """One other record's file matching one of this record's files."""

    evidence_id: int  # this record's file
    kind: str  # SAME_FILE or SAME_PICTURE
    other_name: str  # the other file's name (shown only with a visible record)
    other_project: Project
    visible: bool  # the viewer may open the other record

    @property
    def kind_label(self) -> str:
        return "同一文件" if self.kind == SAME_FILE else "相同图片（另存或转换格式）"

    @property
    def url(self) -> str:
        return reverse("admin:projects_project_change", args=[self.other_project.pk]) if self.visible else ""

    @property
    def authority_name(self) -> str:
        return self.other_project.authority.name


def console_projects(user):
    """The records the console shows this user (as review/admin.py's ProjectReviewAdmin.get_queryset)."""
    return Project.objects.all() if user.is_superuser else permissions.visible_projects(user)


def reuse_of(user, project, evidence) -> dict[int, list[Reuse]]:
    """{evidence id: matches in other records} for `evidence`, this record's files. At most four queries
    whatever the number of files: same hashes, this record's fingerprints, same fingerprints, visibility."""
    own = [e for e in evidence if e.archived_at is None]
    if not own:
        return {}
    by_hash: dict[str, list[int]] = {}
    for item in own:
        by_hash.setdefault(item.sha256, []).append(item.pk)
    matches: list[tuple[int, str, Evidence]] = []
    seen: set[tuple[int, int]] = set()
    same_files = (
        Evidence.objects.filter(sha256__in=list(by_hash), archived_at__isnull=True)
        .exclude(project_id=project.pk)
        .select_related("project__authority")
        .order_by("id")[:MATCH_LIMIT]
    )
    for other in same_files:
        for own_id in by_hash[other.sha256]:
            matches.append((own_id, SAME_FILE, other))
            seen.add((own_id, other.pk))
    images = [item.pk for item in own if item.content_type.startswith("image/")]
    if images:
        by_print: dict[str, list[int]] = {}
        for row in EvidenceFingerprint.objects.filter(evidence_id__in=images):
            by_print.setdefault(row.perceptual_hash, []).append(row.evidence_id)
        if by_print:
            similar = (
                EvidenceFingerprint.objects.filter(
                    perceptual_hash__in=list(by_print), evidence__archived_at__isnull=True
                )
                .exclude(evidence__project_id=project.pk)
                .select_related("evidence__project__authority")
                .order_by("evidence_id")[:MATCH_LIMIT]
            )
            for row in similar:
                for own_id in by_print[row.perceptual_hash]:
                    if (own_id, row.evidence_id) not in seen:
                        matches.append((own_id, SAME_PICTURE, row.evidence))
    if not matches:
        return {}
    others = {other.project_id for _own, _kind, other in matches}
    visible = set(console_projects(user).filter(pk__in=others).values_list("pk", flat=True))
    found: dict[int, list[Reuse]] = {}
    for own_id, kind, other in matches:
        found.setdefault(own_id, []).append(
            Reuse(
                evidence_id=own_id,
                kind=kind,
                other_name=other.original_name,
                other_project=other.project,
                visible=other.project_id in visible,
            )
        )
    return found


def annotate_stages(user, project, stages) -> list[Reuse]:
    """Attach `reused` (a list of Reuse) to each evidence of the review page's stages; returns all matches."""
    evidence = [item for stage in stages for item in stage.evidence]
    found = reuse_of(user, project, evidence)
    for item in evidence:
        item.reused = found.get(item.pk, [])
    return [reuse for matches in found.values() for reuse in matches]


# ---------------------------------------------------------------- the city's list across districts


@dataclass
class ReuseGroup:
    kind: str
    key: str  # the shared SHA-256 or pHash
    files: list[Evidence]

    @property
    def kind_label(self) -> str:
        return "同一文件" if self.kind == SAME_FILE else "相同图片"

    @property
    def authorities(self) -> list[str]:
        return sorted({item.project.authority.name for item in self.files})


def _groups(keys, rows_of, kind) -> list[ReuseGroup]:
    rows = rows_of(keys)
    by_key: dict[str, list[Evidence]] = {}
    for key, item in rows:
        by_key.setdefault(key, []).append(item)
    return [ReuseGroup(kind, key, by_key.get(key, [])) for key in keys]


def across_districts(kind: str, page_number, per_page: int = 25):
    """A page of files (or pictures) found in records of more than one authority, most-reused first: one
    aggregate query for the page's keys, one for their files."""
    if kind == SAME_PICTURE:
        keys = (
            EvidenceFingerprint.objects.filter(evidence__archived_at__isnull=True)
            .values("perceptual_hash")
            .annotate(
                authorities=Count("evidence__project__authority", distinct=True),
                records=Count("evidence__project", distinct=True),
            )
            .filter(authorities__gt=1)
            .order_by("-records", "perceptual_hash")
            .values_list("perceptual_hash", flat=True)
        )

        def rows_of(page_keys):
            fingerprints = (
                EvidenceFingerprint.objects.filter(
                    perceptual_hash__in=page_keys, evidence__archived_at__isnull=True
                )
                .select_related("evidence__project__authority", "evidence__project__enterprise")
                .order_by("evidence__project__authority__code", "evidence_id")
            )
            return [(row.perceptual_hash, row.evidence) for row in fingerprints]
    else:
        keys = (
            Evidence.objects.filter(archived_at__isnull=True)
            .values("sha256")
            .annotate(
                authorities=Count("project__authority", distinct=True),
                records=Count("project", distinct=True),
            )
            .filter(authorities__gt=1)
            .order_by("-records", "sha256")
            .values_list("sha256", flat=True)
        )

        def rows_of(page_keys):
            files = (
                Evidence.objects.filter(sha256__in=page_keys, archived_at__isnull=True)
                .select_related("project__authority", "project__enterprise")
                .order_by("project__authority__code", "id")
            )
            return [(item.sha256, item) for item in files]

    page = Paginator(keys, per_page).get_page(page_number)
    page.groups = _groups(list(page.object_list), rows_of, kind)
    return page
