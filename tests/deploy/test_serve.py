"""``careops serve`` (gunicorn): sizing from the machine and its overrides, refusal of a bad
production configuration, Unix socket, access log, graceful reload without a failed request."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from careops.core.serve import WORKER_MIB, ForwardedHeadersFilter, sizing
from tests.deploy.helpers import base_env, careops, serve


@pytest.mark.parametrize(
    ("cpus", "memory_mib", "expected"),
    [
        (2, 4096, (5, 4)),  # 2 × 2 + 1
        (16, 2048, (2048 // 2 // WORKER_MIB, 4)),  # memory-bound
        (1, 256, (2, 4)),  # never fewer than two processes
        (8, 65536, (17, 4)),
    ],
)
def test_sizing_formula(cpus, memory_mib, expected):
    assert sizing(cpus, memory_mib) == expected


def test_explicit_sizing_wins():
    assert sizing(2, 4096, workers=3, threads=8) == (3, 8)


def _print_config(tmp_path: Path, *args: str, **env: str) -> dict:
    result = careops(["serve", "--print-config", *args], base_env(tmp_path, **env))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_print_config_shows_the_machine_and_the_computed_sizing(tmp_path):
    effective = _print_config(tmp_path)
    machine, settings = effective["machine"], effective["settings"]
    assert (settings["workers"], settings["threads"]) == sizing(
        machine["cpus"], machine["memory_mib"]
    )
    assert machine["cpus"] <= len(os.sched_getaffinity(0))
    assert settings["bind"] == ["127.0.0.1:8000"]
    assert settings["forwarded_allow_ips"] == "127.0.0.1,::1"
    assert settings["preload_app"] is False


def test_sizing_and_address_from_options_or_environment(tmp_path):
    by_options = _print_config(tmp_path, "-w", "3", "-t", "2", "--bind", "unix:/run/x.sock")
    by_env = _print_config(
        tmp_path,
        CAREOPS_WEB_WORKERS="7",
        CAREOPS_WEB_THREADS="6",
        CAREOPS_WEB_BIND="0.0.0.0:8000",
        CAREOPS_TRUSTED_PROXIES="10.0.0.5",
    )
    assert (by_options["settings"]["workers"], by_options["settings"]["threads"]) == (3, 2)
    assert by_options["settings"]["bind"] == ["unix:/run/x.sock"]
    assert (by_env["settings"]["workers"], by_env["settings"]["threads"]) == (7, 6)
    assert by_env["settings"]["bind"] == ["0.0.0.0:8000"]
    assert by_env["trusted_proxies"] == ["10.0.0.5"]


def test_a_bad_production_configuration_is_refused_before_serving(tmp_path):
    result = careops(["serve"], base_env(tmp_path, CAREOPS_ENV="production"))
    assert result.returncode == 2
    assert "configuration refusée" in result.stderr and "CAREOPS_SECRET_KEY" in result.stderr


def test_a_setting_the_workers_would_refuse_is_refused_by_serve_itself(tmp_path):
    """A too-short metrics token or an unknown log format: a French message and exit 2 from
    ``careops serve``, not workers that fail to boot behind a gunicorn traceback."""
    short_token = careops(
        ["serve", "--bind", "127.0.0.1:0"],
        base_env(tmp_path, CAREOPS_METRICS_TOKEN="trop-court"),
    )
    assert short_token.returncode == 2
    assert "configuration refusée : CAREOPS_METRICS_TOKEN" in short_token.stderr
    assert "Traceback" not in short_token.stderr and "Worker failed" not in short_token.stderr
    bad_format = careops(["serve", "--print-config"], base_env(tmp_path, CAREOPS_LOG_FORMAT="xml"))
    assert bad_format.returncode == 2 and "CAREOPS_LOG_FORMAT" in bad_format.stderr


def test_zero_workers_is_refused(tmp_path):
    result = careops(["serve", "--workers", "0", "--print-config"], base_env(tmp_path))
    assert result.returncode == 2 and "--workers doit être au moins 1" in result.stderr


def _workers(master: int) -> set[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return {int(pid) for pid in children}


def test_unix_socket_access_log_and_graceful_reload(tmp_path):
    env = base_env(tmp_path, CAREOPS_QUEUE_URL="immediate", CAREOPS_CACHE_URL="locmem://")
    socket_path = tmp_path / "web.sock"
    with serve(env, f"unix:{socket_path}", "--workers", "2", "--threads", "2") as web:
        # the first answer waits for a worker to import Django (slow on a loaded machine)
        http = httpx.Client(transport=httpx.HTTPTransport(uds=str(socket_path)), timeout=60)
        deadline = time.monotonic() + 180  # a loaded machine boots workers slowly
        while not socket_path.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        first = http.get("http://careops/healthz", headers={"X-Request-ID": "probe-1"})
        assert first.status_code == 200
        before = _workers(web.process.pid)
        assert len(before) == 2
        os.kill(web.process.pid, signal.SIGHUP)
        statuses = []
        while time.monotonic() < deadline:  # requests keep succeeding while workers change
            statuses.append(http.get("http://careops/healthz").status_code)
            after = _workers(web.process.pid)
            if len(after) == 2 and not after & before:
                break
        else:
            pytest.fail(f"workers not replaced after SIGHUP: {before} → {after}")
        assert set(statuses) == {200}
        # secrets carried by URLs (password-reset key, OpenID Connect code) stay out of the log
        http.get("http://careops/accounts/password/reset/key/4-cle-de-reinitialisation/")
        http.get("http://careops/accounts/oidc/psc/login/callback/?code=code-secret&state=etat")
        http.get("http://careops/preuves/?page=2")
        http.close()
        assert web.logged('"GET /preuves/?page=2 HTTP/1.1"')
        log = web.text()
    assert '"GET /healthz HTTP/1.1" 200' in log and "rid=probe-1" in log
    assert "cle-de-reinitialisation" not in log and "code-secret" not in log
    assert "etat" not in log
    assert "/accounts/password/reset/key/***/" in log
    assert "/login/callback/?code=***&state=***" in log
    assert '"GET /preuves/?page=2 HTTP/1.1"' in log  # what the operator needs stays
    assert "Handling signal: hup" in log.lower() or "hang up" in log.lower()


def test_forwarded_headers_are_trusted_from_listed_addresses_and_networks_only():
    check = ForwardedHeadersFilter(None, ["127.0.0.1", "10.89.0.0/24", "::1"]).trusts
    assert check("127.0.0.1") and check("10.89.0.1") and check("::1")
    assert check("")  # a Unix socket
    assert not check("10.89.1.1") and not check("127.0.0.2") and not check("not-an-address")


def test_a_trusted_proxy_that_is_no_address_is_refused(tmp_path):
    result = careops(
        ["serve", "--print-config"], base_env(tmp_path, CAREOPS_TRUSTED_PROXIES="nginx.local")
    )
    assert result.returncode == 2
    assert "« nginx.local » n'est ni une adresse ni un réseau" in result.stderr
