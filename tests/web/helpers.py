"""Helpers shared by the web and browser tests (plain functions, no fixtures)."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile


def pdf_bytes(marker: str = "") -> bytes:
    """A small, real PDF; ``marker`` makes its content (hence its SHA-256) unique."""
    return (
        b"%PDF-1.4\n"
        b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
        b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>\nendobj\n"
        b"trailer\n<< /Root 1 0 R >>\n%" + marker.encode() + b"\n%%EOF\n"
    )


def pdf_upload(name: str = "pssi.pdf", marker: str = "") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes(marker), "application/pdf")


def evidence_title(key: str) -> str:
    """The title of the evidence on node ``key``; brackets keep titles from containing others."""
    return f"PSSI [{key}]"


def load_d2():
    """Load the D2 referential file and return its current version.

    Only D2 is loaded: other domain files are edited by other people meanwhile, and these tests
    need nothing else from them.
    """
    from careops.catalogue import services
    from careops.catalogue.engine import loader
    from careops.catalogue.models import ReferentialVersion

    services.load_paths([loader.default_directory() / "d2-v1.yaml"])
    return ReferentialVersion.objects.get(domain="D2", is_current=True)


def enable_totp(user, secret: str | None = None):
    """Give the user a TOTP authenticator, as if they had gone through the set-up page."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(user, secret or generate_totp_secret())
    return user


def totp_code(secret: str) -> str:
    """The current code of a TOTP authenticator, as the user's phone would show it."""
    from allauth.mfa.totp.internal.auth import (
        format_hotp_value,
        hotp_value,
        yield_hotp_counters_from_time,
    )

    counters = list(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counters[len(counters) // 2]))
