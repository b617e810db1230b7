"""Real deployment pieces for tests and benchmarks: ``careops serve`` processes, nginx in front
of them with the shipped site file, a self-signed certificate, and migrated databases.

Meant for reuse by the scale-out test and benchmark (web nodes and nginx in front)::

    with serve(env, "127.0.0.1:18101") as web, nginx_site(tmp, ["127.0.0.1:18101"]) as proxy:
        httpx.get(f"{proxy.https}/healthz", verify=False)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
CAREOPS = [sys.executable, "-m", "careops.cli"]
SITE = ROOT / "deploy" / "nginx" / "careops.conf"
PROXY_INCLUDE = ROOT / "deploy" / "nginx" / "careops-proxy.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def base_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a careops process: this checkout, its own data folder, no inherited
    CAREOPS_* variable (the test session's would leak in)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAREOPS_", "DJANGO_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        CAREOPS_DATA_DIR=str(data_dir),
        CAREOPS_LANGUAGE="fr",
    )
    env.update(extra)
    return env


def careops(args: list[str], env: dict[str, str], timeout: float = 600):
    """Run one careops command to completion (its output captured)."""
    return subprocess.run(
        [*CAREOPS, *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


def wait_for(url: str, timeout: float = 60.0, process: subprocess.Popen | None = None, **kw):
    """Poll ``url`` until it answers (any status); fail early if ``process`` died."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} answered")
        try:
            return httpx.get(url, timeout=2, **kw)
        except httpx.TransportError as exc:
            last = exc
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer in {timeout} s: {last}")


@dataclass
class Served:
    process: subprocess.Popen
    url: str
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def logged(self, expected: str, within: float = 15.0) -> bool:
        """Whether ``expected`` reaches the log within ``within`` seconds (gunicorn writes an
        access line after the answer, so a client may read the log before it is there)."""
        deadline = time.monotonic() + within
        while expected not in self.text():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)  # bounded wait for a condition, not a fixed delay
        return True


@contextlib.contextmanager
def serve(env: dict[str, str], bind: str, *args: str, log: Path | None = None) -> Iterator[Served]:
    """``careops serve --bind BIND ARGS`` until the block ends (SIGTERM, then SIGKILL)."""
    name = "".join(c if c.isalnum() else "_" for c in bind.rsplit("/", 1)[-1])
    log = log or Path(env["CAREOPS_DATA_DIR"]) / f"serve-{name}.log"
    Path(env["CAREOPS_DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [*CAREOPS, "serve", "--bind", bind, *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )
    served = Served(process, f"http://{bind}", log)
    try:
        if not bind.startswith("unix:"):
            wait_for(f"{served.url}/healthz", process=process)
        yield served
    finally:
        stop(process)


def stop(process: subprocess.Popen, timeout: float = 30) -> None:
    """Stop a process group started by these helpers: SIGTERM, then SIGKILL."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def self_signed(folder: Path, name: str = "careops.test") -> tuple[Path, Path]:
    """A self-signed certificate and key for ``name`` (openssl), in ``folder``."""
    cert, key = folder / "careops.crt", folder / "careops.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
        + ["-nodes", "-days", "2", "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}"]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


def render_site(
    upstreams: list[str],
    *,
    https_port: int,
    http_port: int,
    cert: Path,
    key: Path,
    static_root: Path,
    server_name: str = "careops.test",
    ipv6: bool = False,
) -> str:
    """The shipped site file with its documented site values replaced (nothing else)."""
    text = SITE.read_text()
    default_server = "    server 127.0.0.1:8000 max_fails=1 fail_timeout=10s;\n"
    assert default_server in text
    servers = "".join(default_server.replace("127.0.0.1:8000", upstream) for upstream in upstreams)
    replacements = {
        default_server: servers,
        "careops.example.fr": server_name,
        "/etc/careops/tls/careops.crt": str(cert),
        "/etc/careops/tls/careops.key": str(key),
        "/var/lib/careops/static/": f"{static_root}/",
        "listen 443 ssl": f"listen 127.0.0.1:{https_port} ssl",
        "listen [::]:443 ssl": f"listen [::1]:{https_port} ssl",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen [::]:80;": f"listen [::1]:{http_port};",
    }
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    if not ipv6:
        text = "\n".join(line for line in text.splitlines() if "listen [::1]" not in line)
    return text


@dataclass
class Proxy:
    process: subprocess.Popen
    https: str
    http: str
    prefix: Path

    def access_log(self) -> str:
        return (self.prefix / "access.log").read_text(errors="replace")

    def error_log(self) -> str:
        return (self.prefix / "error.log").read_text(errors="replace")


@contextlib.contextmanager
def nginx_site(
    prefix: Path,
    upstreams: list[str],
    *,
    https_port: int,
    http_port: int,
    static_root: Path | None = None,
    server_name: str = "careops.test",
) -> Iterator[Proxy]:
    """nginx in the foreground with the shipped site file, in its own prefix (no root-owned
    file touched), until the block ends."""
    prefix.mkdir(parents=True, exist_ok=True)
    cert, key = self_signed(prefix, server_name)
    static_root = static_root or prefix / "static"
    static_root.mkdir(parents=True, exist_ok=True)
    site = render_site(
        upstreams,
        https_port=https_port,
        http_port=http_port,
        cert=cert,
        key=key,
        static_root=static_root,
        server_name=server_name,
    ).replace("/var/log/nginx/careops.access.log", str(prefix / "access.log"))
    (prefix / "careops.conf").write_text(site)
    shutil.copy(PROXY_INCLUDE, prefix / "careops-proxy.conf")
    temp = {name: prefix / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for folder in temp.values():
        folder.mkdir(exist_ok=True)
    (prefix / "nginx.conf").write_text(
        "daemon off;\nmaster_process on;\nworker_processes 1;\n"
        + ("user root;\n" if os.geteuid() == 0 else "")
        + f"pid {prefix}/nginx.pid;\nerror_log {prefix}/error.log info;\n"
        + "events { worker_connections 512; }\nhttp {\n"
        + "  include /etc/nginx/mime.types;\n  default_type application/octet-stream;\n"
        + f"  access_log {prefix}/access.log;\n"
        + f"  client_body_temp_path {temp['body']};\n  proxy_temp_path {temp['proxy']};\n"
        + f"  fastcgi_temp_path {temp['fastcgi']};\n  uwsgi_temp_path {temp['uwsgi']};\n"
        + f"  scgi_temp_path {temp['scgi']};\n"
        + "  include careops.conf;\n}\n"
    )
    command = [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", "stderr"]
    check = subprocess.run([*command, "-t"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    with open(prefix / "nginx.out", "wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    proxy = Proxy(
        process, f"https://127.0.0.1:{https_port}", f"http://127.0.0.1:{http_port}", prefix
    )
    try:
        wait_for(f"{proxy.http}/healthz", timeout=20, process=process)
        yield proxy
    finally:
        stop(process)
