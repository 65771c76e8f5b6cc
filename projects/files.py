"""Uploaded files, one way for every app (docs/files.md): the type decided by content, the size limit, the
SHA-256, and the one response that serves a private file after the caller's permission check.

The stored-file model these feed is `projects.models.StoredFile` (abstract): original name, detected type,
size, SHA-256, who uploaded it when, and who archived it when and why (nothing is hard-deleted).
"""

import hashlib
import os
from dataclasses import dataclass
from urllib.parse import quote

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import FileResponse

# What may be uploaded, by content: the label the refusal names, and the canonical extension of the type.
ALLOWED_TYPES = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}
EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
# Extensions a name may already carry for its type: "照片.jpeg" of a JPEG keeps its name.
KNOWN_EXTENSIONS = {"application/pdf": {"pdf"}, "image/jpeg": {"jpg", "jpeg"}, "image/png": {"png"}}
FALLBACK_CONTENT_TYPE = "application/octet-stream"

# The codes of sniff_type's refusals (forms show them beside the file field).
REFUSAL_CODES = {"empty", "too_large", "bad_type"}

SNIFF_BYTES = 8192


@dataclass(frozen=True)
class CheckedUpload:
    """What the checks found in an accepted upload: what a StoredFile row records."""

    content_type: str
    size: int
    sha256: str

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.content_type]


def size_label(size: int) -> str:
    """A file size as a reader reads it: MB from 1 MB up, else KB (a limit of 512 KB is not "0MB")."""
    if size >= 1048576:
        return f"{size / 1048576:.1f}MB"
    return f"{size / 1024:.1f}KB"


def sniff_type(uploaded_file) -> str:
    """The file's type decided by its content (magic bytes), never by its name, within EVIDENCE_MAX_BYTES.
    Returns the MIME type; raises ValidationError (code "empty", "too_large" or "bad_type") in Chinese."""
    if uploaded_file.size == 0:
        raise ValidationError("文件为空，请重新选择。", code="empty")
    limit = settings.EVIDENCE_MAX_BYTES
    if uploaded_file.size > limit:
        raise ValidationError(
            f"文件大小为{size_label(uploaded_file.size)}，超过上限{size_label(limit)}。",
            code="too_large",
        )
    uploaded_file.seek(0)
    head = uploaded_file.read(SNIFF_BYTES)
    uploaded_file.seek(0)
    kind = filetype.guess(head)
    if kind is None or kind.mime not in ALLOWED_TYPES:
        found = f"（识别为{kind.mime}）" if kind else ""
        raise ValidationError(
            f"文件“{uploaded_file.name}”的内容不是PDF、JPEG或PNG{found}：只接受这三种格式，按文件内容判断，与扩展名无关。",
            code="bad_type",
        )
    return kind.mime


def sha256_of(file) -> str:
    """The SHA-256 of a file's whole content, read in chunks (an upload or a stored file); rewound after."""
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def check_upload(uploaded_file) -> CheckedUpload:
    """Sniff (refusing as sniff_type does), then hash: everything a StoredFile row needs from the content."""
    content_type = sniff_type(uploaded_file)
    return CheckedUpload(content_type=content_type, size=uploaded_file.size, sha256=sha256_of(uploaded_file))


def download_name(name: str, content_type: str) -> str:
    """The name a file is served under: the uploader's name with the extension of the type detected in it.
    A PDF uploaded as "evil.html" downloads as "evil.pdf", so no browser or desktop opens it as HTML."""
    name = os.path.basename((name or "").replace("\\", "/")).strip()
    extension = EXTENSIONS.get(content_type)
    if extension is None:
        return name or "file"
    stem, suffix = os.path.splitext(name)
    if suffix.lower().lstrip(".") in KNOWN_EXTENSIONS[content_type]:
        return name
    return f"{stem or 'file'}.{extension}"


def content_disposition(name: str) -> str:
    """inline (PDF and images are read in the browser), the name in RFC 5987's UTF-8 form: Chinese names
    survive, and no quote or semicolon in a name can end the header's value."""
    return f"inline; filename*=UTF-8''{quote(name, safe='')}"


def private_file_response(file, *, content_type: str, name: str) -> FileResponse:
    """Serve a private file; the caller has already checked that the user may see it.

    `file`: the FieldFile (filesystem or S3 storage); `content_type`: the type detected at upload (served as
    such, never what the browser guesses); `name`: the uploader's file name, served with the detected type's
    extension (download_name). The headers keep the file from running as a page of the portal: no sniffing,
    a sandbox with no scripts, and no copy in a shared cache."""
    content_type = content_type or FALLBACK_CONTENT_TYPE
    response = FileResponse(file.open("rb"), content_type=content_type)
    response["Content-Disposition"] = content_disposition(download_name(name, content_type))
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; object-src 'self'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
