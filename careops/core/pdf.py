"""HTML to PDF with WeasyPrint, offline: a page that names an outside resource is refused."""

from __future__ import annotations


def _no_fetch(url: str, *args, **kwargs):
    raise ValueError(f"ressource externe refusée : {url}")


def offline_pdf(html: str) -> bytes:
    """The PDF of ``html``; WeasyPrint fetches nothing (no base URL, every fetch refused)."""
    from weasyprint import HTML

    return HTML(string=html, base_url=None, url_fetcher=_no_fetch).write_pdf()
