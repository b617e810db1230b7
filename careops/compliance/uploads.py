"""Checks on uploaded evidence files: size, extension, and content matching the extension."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

_ZIP = b"PK\x03\x04"
_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "pdf": (b"%PDF-",),
    "docx": (_ZIP,),
    "xlsx": (_ZIP,),
    "odt": (_ZIP,),
    "ods": (_ZIP,),
    "zip": (_ZIP,),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
}
_TEXT = {"txt", "csv", "json"}
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "zip": "application/zip",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "txt": "text/plain",
    "csv": "text/csv",
    "json": "application/json",
}


class UploadRejected(ValueError):
    """An uploaded file that careops refuses, with the French reason."""


@dataclass(frozen=True)
class CheckedFile:
    """A file that passed the checks, with its hash and the type careops will serve it as."""

    upload: UploadedFile
    name: str
    size: int
    sha256: str
    content_type: str


def check(upload: UploadedFile) -> CheckedFile:
    """Return the checked file or raise UploadRejected; reads the file once, in chunks."""
    name = PurePath(upload.name or "").name
    if not name:
        raise UploadRejected(_("Le fichier n'a pas de nom."))
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    allowed = settings.UPLOAD_ALLOWED_TYPES
    if extension not in allowed:
        raise UploadRejected(
            _("« %(name)s » : type de fichier non accepté. Types acceptés : %(types)s.")
            % {"name": name, "types": ", ".join(allowed)}
        )
    limit = settings.UPLOAD_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise UploadRejected(
            _("« %(name)s » dépasse la taille maximale (%(size)s pour %(limit)s autorisés).")
            % {"name": name, "size": filesizeformat(upload.size), "limit": filesizeformat(limit)}
        )
    if upload.size == 0:
        raise UploadRejected(_("« %(name)s » est vide.") % {"name": name})
    digest = hashlib.sha256()
    head = b""
    size = 0
    upload.seek(0)
    for chunk in upload.chunks():
        if not head:
            head = chunk[:512]
        digest.update(chunk)
        size += len(chunk)
        if extension in _TEXT and b"\x00" in chunk:
            raise UploadRejected(_("« %(name)s » n'est pas un fichier texte.") % {"name": name})
    upload.seek(0)
    if size > limit:
        raise UploadRejected(
            _("« %(name)s » dépasse la taille maximale autorisée.") % {"name": name}
        )
    signatures = _SIGNATURES.get(extension)
    if signatures and not head.startswith(signatures):
        raise UploadRejected(
            _("« %(name)s » : le contenu ne correspond pas à un fichier .%(ext)s.")
            % {"name": name, "ext": extension}
        )
    if extension in _TEXT:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # a multi-byte character cut at the 512th byte is not an error
            if exc.start < len(head) - 4:
                raise UploadRejected(
                    _("« %(name)s » doit être encodé en UTF-8.") % {"name": name}
                ) from exc
    return CheckedFile(upload, name, size, digest.hexdigest(), CONTENT_TYPES[extension])
