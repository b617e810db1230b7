"""HTTP(S) probe with httpx: status, server, title, login/admin pages, headers, edge devices."""

from __future__ import annotations

import re
import sys

from careops.exposure.engine.results import HttpInfo

SECURITY_HEADERS = [
    "strict-transport-security",
    "content-security-policy",
    "x-frame-options",
    "x-content-type-options",
    "referrer-policy",
]
TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
PASSWORD_RE = re.compile(r"<input[^>]+type=[\"']?password", re.IGNORECASE)
ADMIN_RE = re.compile(
    r"\b(admin|administration|console|management|gestion|phpmyadmin|webmin|manager|"
    r"tableau de bord|dashboard)\b",
    re.IGNORECASE,
)

# Edge devices (VPN portals, firewalls) recognised from their login pages; the family name is
# the one used in the KEV catalogue ("vendorProject|product" patterns, see vulndb.EDGE_FAMILIES).
EDGE_SIGNATURES: list[tuple[str, re.Pattern]] = [
    ("fortinet-fortios", re.compile(r"fortinet|fortigate|/remote/login|fortitoken", re.I)),
    ("ivanti-connect-secure", re.compile(r"pulse secure|ivanti connect secure|/dana-na/", re.I)),
    (
        "citrix-netscaler",
        re.compile(r"netscaler|citrix gateway|/vpn/index\.html|/logon/LogonPoint", re.I),
    ),
    ("paloalto-globalprotect", re.compile(r"globalprotect|/global-protect/", re.I)),
    ("sonicwall-sma", re.compile(r"sonicwall|sonicui|/cgi-bin/welcome", re.I)),
    ("cisco-asa", re.compile(r"/\+CSCOE\+/|webvpn|cisco asa|anyconnect", re.I)),
]


def detect_edge(text: str) -> str:
    """The edge-device family whose signature appears in ``text`` ("" if none)."""
    for family, pattern in EDGE_SIGNATURES:
        if pattern.search(text):
            return family
    return ""


def analyse(url: str, status: int, headers: dict[str, str], body: str) -> HttpInfo:
    """Turn one HTTP answer into HttpInfo (pure: used by the probe and by tests)."""
    lower = {k.lower(): v for k, v in headers.items()}
    match = TITLE_RE.search(body or "")
    title = re.sub(r"\s+", " ", match.group(1)).strip()[:200] if match else ""
    info = HttpInfo(url=url, status=status, server=lower.get("server", "")[:120], title=title)
    info.location = lower.get("location", "")[:300]
    info.login_page = bool(PASSWORD_RE.search(body or ""))
    info.admin_page = bool(ADMIN_RE.search(title)) or (
        info.login_page and bool(ADMIN_RE.search((body or "")[:20000]))
    )
    info.hsts = "strict-transport-security" in lower
    # Redirects carry no page: headers are judged on answered pages only.
    if 200 <= status < 300:
        info.missing_headers = [h for h in SECURITY_HEADERS if h not in lower]
    info.edge_device = detect_edge(" ".join([title, info.location, (body or "")[:20000]]))
    return info


async def probe_http(
    host: str, port: int, tls: bool, timeout: float, server_name: str | None = None
) -> tuple[HttpInfo, str] | None:
    """GET / (no redirect followed); return (HttpInfo, body) or None if it is not HTTP."""
    if "httpx" not in sys.modules:
        # httpx's own command line (rich, click, pygments: ~0.15 s of CPU, taken from the
        # port sweep on the event loop) is of no use here; without it httpx defines a stub
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    import httpx

    scheme = "https" if tls else "http"
    authority = f"[{host}]" if ":" in host else host
    url = f"{scheme}://{authority}:{port}/"
    headers = {"User-Agent": "careops-exposure/1.0", "Accept": "*/*"}
    if server_name:
        headers["Host"] = server_name
    try:
        # The audit inspects whatever certificate is shown (judged by tls.py), so no verification.
        client = httpx.AsyncClient(verify=False, timeout=timeout, follow_redirects=False)  # noqa: S501
        async with client:
            response = await client.get(url, headers=headers)
            body = response.text[:200000]
    except (httpx.HTTPError, UnicodeDecodeError, ValueError):
        return None
    return analyse(url, response.status_code, dict(response.headers), body), body
