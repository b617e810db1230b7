"""The shipped nginx site (deploy/nginx/careops.conf) in front of a production ``careops serve``,
both run for real: TLS, HTTPS redirect, upload limit, proxy headers, static files, forwarded
headers trusted only from the proxy, retry on the next web node."""

from __future__ import annotations

import re
import socket
import ssl
import warnings

import httpx
import psycopg
import pytest

from tests.deploy.conftest import production_env
from tests.deploy.helpers import nginx_site, serve

pytestmark = pytest.mark.services

WEB = "127.0.0.1:18101"
DEAD = "127.0.0.1:18199"  # nothing listens there: a web node that died
HTTPS, HTTP = 18143, 18180
HOST = {"Host": "careops.test"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory, deploy_database, redis_db):
    data = tmp_path_factory.mktemp("nginx-data")
    env = production_env(data, deploy_database)
    static = tmp_path_factory.mktemp("static")
    (static / "collected.css").write_text("body { color: #000091; }\n")
    with (
        serve(env, WEB, "--workers", "1", "--threads", "4") as web,
        nginx_site(
            tmp_path_factory.mktemp("nginx"),
            [DEAD, WEB],
            https_port=HTTPS,
            http_port=HTTP,
            static_root=static,
        ) as proxy,
    ):
        yield proxy, web, deploy_database


def client(**kw) -> httpx.Client:
    return httpx.Client(verify=False, headers=HOST, timeout=60, **kw)  # noqa: S501 self-signed


def test_https_page_with_the_production_headers(stack):
    proxy, _, _ = stack
    with client() as http:
        answer = http.get(f"{proxy.https}/accounts/login/")
    assert answer.status_code == 200
    assert "max-age=31536000" in answer.headers["strict-transport-security"]
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    assert "secure" in answer.headers["set-cookie"].lower()
    assert "server" not in answer.headers or "nginx/" not in answer.headers["server"]


def _handshake(version: ssl.TLSVersion) -> str:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    context.set_ciphers("DEFAULT:@SECLEVEL=0")  # this client would speak old TLS itself
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = context.maximum_version = version
    with (
        socket.create_connection(("127.0.0.1", HTTPS)) as raw,
        context.wrap_socket(raw, server_hostname="careops.test") as tls,
    ):
        return tls.version()


def test_tls_offers_no_protocol_below_1_2(stack):
    assert _handshake(ssl.TLSVersion.TLSv1_2) == "TLSv1.2"
    assert _handshake(ssl.TLSVersion.TLSv1_3) == "TLSv1.3"
    for old in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
        with pytest.raises(ssl.SSLError):
            _handshake(old)


def test_plain_http_is_redirected_except_the_liveness_probe(stack):
    proxy, _, _ = stack
    with client() as http:
        page = http.get(f"{proxy.http}/accounts/login/")
        probe = http.get(f"{proxy.http}/healthz")
    assert page.status_code == 301
    assert page.headers["location"] == "https://careops.test/accounts/login/"
    assert probe.status_code == 200 and probe.json() == {"status": "ok"}


def _post_headers(length: int) -> bytes:
    return (
        f"POST /compte/jetons/ HTTP/1.1\r\nHost: careops.test\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {length}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()


def _raw_https(request: bytes, body: bytes = b"") -> bytes:
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with (
        socket.create_connection(("127.0.0.1", HTTPS)) as raw,
        context.wrap_socket(raw, server_hostname="careops.test") as tls,
    ):
        tls.sendall(request + body)
        chunks = []
        while chunk := tls.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_an_upload_above_the_limit_is_refused_by_nginx_in_french(stack):
    proxy, web, _ = stack
    answer = _raw_https(_post_headers(129 * 1024 * 1024)).decode("utf-8", "replace")
    assert answer.startswith("HTTP/1.1 413")
    assert "Fichier trop volumineux" in answer
    assert "POST /compte/jetons/" not in web.text()  # careops never saw it


def test_an_upload_within_the_limit_reaches_careops(stack):
    proxy, web, _ = stack
    size = 2 * 1024 * 1024
    answer = _raw_https(_post_headers(size), b"x" * size).decode("utf-8", "replace")
    assert answer.startswith("HTTP/1.1 403")  # careops' CSRF refusal: the body got through
    assert web.logged("POST /compte/jetons/")


def test_static_files_come_from_disk_and_fall_back_to_careops(stack):
    proxy, web, _ = stack
    with client() as http:
        collected = http.get(f"{proxy.https}/static/collected.css")
        fallback = http.get(f"{proxy.https}/static/careops/careops.css")
    assert collected.status_code == 200 and "#000091" in collected.text
    assert collected.headers["cache-control"].startswith("max-age=3600")
    assert fallback.status_code == 200 and web.logged("/static/careops/careops.css")
    assert "/static/collected.css" not in web.text()  # nginx answered alone


def _csrf(http: httpx.Client, url: str) -> str:
    page = http.get(url)
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def test_a_forged_x_forwarded_for_is_not_the_address_careops_records(stack):
    proxy, _, database = stack
    with client() as http:
        url = f"{proxy.https}/accounts/login/"
        token = _csrf(http, url)
        answer = http.post(
            url,
            data={"csrfmiddlewaretoken": token, "login": "forger", "password": "not-the-one"},
            headers={
                "X-Forwarded-For": "203.0.113.7",
                "Referer": "https://careops.test/accounts/login/",
            },
        )
    assert answer.status_code == 200  # the login page again, with its error
    with psycopg.connect(database) as db:
        ips = [
            row[0]
            for row in db.execute(
                "SELECT ip FROM core_auditevent WHERE action = 'login_failed' AND summary LIKE %s",
                ("%forger%",),
            )
        ]
    assert ips and all(str(ip) == "127.0.0.1" for ip in ips), ips


def test_forwarded_headers_from_a_peer_other_than_the_proxy_are_dropped(stack):
    _, web, _ = stack
    forged = {**HOST, "X-Forwarded-Proto": "https"}
    trusted = httpx.get(f"{web.url}/accounts/login/", headers=forged, timeout=60)
    # 127.0.0.2 is not in CAREOPS_TRUSTED_PROXIES: careops sees plain HTTP and redirects
    outsider = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"), timeout=60)
    with outsider:
        untrusted = outsider.get(f"{web.url}/accounts/login/", headers=forged)
    assert trusted.status_code == 200
    assert untrusted.status_code == 301
    assert untrusted.headers["location"].startswith("https://careops.test/")


def test_a_dead_web_node_is_invisible_to_clients(stack):
    proxy, _, _ = stack
    with client() as http:
        answers = [http.get(f"{proxy.https}/healthz").status_code for _ in range(6)]
        answers += [http.get(f"{proxy.https}/accounts/login/").status_code for _ in range(4)]
    assert answers == [200] * 10
    # nginx did try the dead node (the first upstream) and set it aside for fail_timeout; which
    # request paid for it depends on timing, so the error log is where it shows
    assert f'upstream: "http://{DEAD}/' in proxy.error_log()
    assert f" {DEAD}" not in proxy.access_log().replace(f"{DEAD}, ", "")  # never the final answer


def test_secrets_in_urls_are_masked_in_the_access_log(stack):
    proxy, _, _ = stack
    with client() as http:
        http.get(f"{proxy.https}/accounts/password/reset/key/4-cle-de-reinitialisation/")
        http.get(f"{proxy.https}/accounts/oidc/psc/login/callback/?code=code-secret&state=etat")
        http.get(f"{proxy.https}/preuves/?page=2")
        http.get(f"{proxy.http}/accounts/confirm-email/cle-de-confirmation/")  # → HTTPS
    log = proxy.access_log()
    for secret in ("cle-de-reinitialisation", "code-secret", "etat", "cle-de-confirmation"):
        assert secret not in log
    assert '"GET /accounts/password/reset/key/*** HTTP/1.1"' in log.replace("***/", "***")
    assert '"GET /accounts/oidc/psc/login/callback/?*** HTTP/1.1"' in log
    assert '"GET /accounts/confirm-email/*** HTTP/1.1"' in log.replace("***/", "***")
    assert '"GET /preuves/?page=2 HTTP/1.1"' in log  # what the operator needs stays
