"""``careops serve``: the production web server (gunicorn), sized from the machine.

Sizing (``--workers`` and ``--threads``, or ``CAREOPS_WEB_WORKERS`` / ``CAREOPS_WEB_THREADS``,
override it; 0 means "computed"):

- ``cpus``: the CPUs this process may run on (affinity), capped by a cgroup CPU quota;
- ``workers = clamp(2 × cpus + 1, 2, memory_mib // 2 // WORKER_MIB)``: gunicorn's rule for
  request-bound processes, never more than half the memory (cgroup limit or RAM) can hold at
  ``WORKER_MIB`` per process;
- ``threads = 4`` per worker: a page waits on PostgreSQL for part of its time; four threads keep
  a process busy while one waits, without letting the GIL queue grow.

The master process never imports Django: the application is loaded in each worker, so a
graceful reload (``SIGHUP``) starts workers on the code and settings then on disk while the old
ones finish their requests. Forwarded headers (``X-Forwarded-For``, ``-Proto``, ``-Host``,
``-Port``) are kept only from ``CAREOPS_TRUSTED_PROXIES`` (addresses or networks, and a Unix
socket); anyone else's are dropped before Django sees them.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import math
import os
import sys
from pathlib import Path

WORKER_MIB = 160  # resident memory of one careops web worker, measured (docs/deployment.md)
THREADS = 4
ACCESS_LOG_FORMAT = (
    '%({x-forwarded-for}i)s %(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}i)s "%(a)s"'
)


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="ascii").strip()
    except OSError:
        return ""


def _cgroup_dirs() -> list[str]:
    """This process's own cgroup folders (v2 unified, then v1 cpu and memory controllers),
    where a service manager or container runtime writes its limits."""
    dirs = []
    for line in _read("/proc/self/cgroup").splitlines():
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            dirs.append(f"/sys/fs/cgroup{path}")
        for controller in controllers.split(","):
            if controller in ("cpu", "memory"):
                dirs.append(f"/sys/fs/cgroup/{controller}{path}")
    return [*dirs, "/sys/fs/cgroup", "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/memory"]


def available_cpus() -> int:
    """CPUs this process may use: its affinity, capped by a cgroup (v2 or v1) CPU quota."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    for folder in _cgroup_dirs():
        v2 = _read(f"{folder}/cpu.max").split()
        quota, period = v2 if len(v2) == 2 else ("", "")
        if not quota:
            quota = _read(f"{folder}/cpu.cfs_quota_us")
            period = _read(f"{folder}/cpu.cfs_period_us")
        if quota.isdigit() and period.isdigit() and int(period):
            cpus = min(cpus or 1, max(1, math.ceil(int(quota) / int(period))))
            break
    return max(1, cpus or 1)


def available_memory_mib() -> int:
    """Memory this process may use: its cgroup limit if any, else the machine's RAM."""
    total = 0
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            total = int(line.split()[1]) // 1024
    for folder in _cgroup_dirs():
        for name in ("memory.max", "memory.limit_in_bytes"):
            value = _read(f"{folder}/{name}")
            if value.isdigit():
                return min(total or 1 << 40, int(value) // (1024 * 1024))
    return total or 1024


def sizing(cpus: int, memory_mib: int, workers: int = 0, threads: int = 0) -> tuple[int, int]:
    """(workers, threads) for this machine; a non-zero argument wins over the formula."""
    if not workers:
        by_memory = max(1, memory_mib // 2 // WORKER_MIB)
        workers = max(2, min(2 * cpus + 1, by_memory))
    return workers, threads or THREADS


class ForwardedHeadersFilter:
    """WSGI wrapper: drop ``X-Forwarded-*`` unless the peer is a trusted proxy.

    Django's ``SECURE_PROXY_SSL_HEADER`` and the client address of throttling and the journal
    (``CAREOPS_TRUSTED_PROXY_COUNT``) believe these headers; a client that reaches a web node
    without going through the proxy must not be able to forge them.
    """

    HEADERS = (
        "HTTP_X_FORWARDED_FOR",
        "HTTP_X_FORWARDED_PROTO",
        "HTTP_X_FORWARDED_HOST",
        "HTTP_X_FORWARDED_PORT",
        "HTTP_X_REAL_IP",
    )

    def __init__(self, application, trusted: list[str]):
        self.application = application
        self.anyone = "*" in trusted
        self.networks = [
            ipaddress.ip_network(item, strict=False) for item in trusted if item != "*"
        ]

    def trusts(self, peer: str) -> bool:
        """Whether ``peer`` (an address, or empty for a Unix socket) may set these headers."""
        if not peer or self.anyone:  # a Unix socket: only processes its file mode admits
            return True
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def __call__(self, environ, start_response):
        if not self.trusts(environ.get("REMOTE_ADDR") or ""):
            for header in self.HEADERS:
                environ.pop(header, None)
        return self.application(environ, start_response)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="careops serve",
        description=(
            "Sert careops en production (gunicorn) : processus et fils dimensionnés d'après la "
            "machine, derrière un mandataire inverse (deploy/nginx/careops.conf). SIGHUP : "
            "rechargement sans coupure ; SIGTERM : arrêt après les requêtes en cours."
        ),
    )
    parser.add_argument(
        "-b",
        "--bind",
        action="append",
        metavar="ADRESSE",
        help="HÔTE:PORT ou unix:/chemin/du/socket (répétable ; défaut : CAREOPS_WEB_BIND, "
        "127.0.0.1:8000)",
    )
    parser.add_argument(
        "-w", "--workers", type=int, default=None, help="processus (défaut : calculé)"
    )
    parser.add_argument(
        "-t", "--threads", type=int, default=None, help="fils par processus (défaut : 4)"
    )
    parser.add_argument("--timeout", type=int, default=120, help="secondes (défaut : 120)")
    parser.add_argument(
        "--graceful-timeout",
        type=int,
        default=30,
        help="secondes laissées aux requêtes en cours à l'arrêt ou au rechargement (30)",
    )
    parser.add_argument(
        "--max-requests",
        type=int,
        default=5000,
        help="requêtes avant qu'un processus soit remplacé (0 : jamais ; défaut : 5000)",
    )
    parser.add_argument(
        "--access-log", default="-", help="fichier du journal d'accès (« - » : sortie standard)"
    )
    parser.add_argument("--no-access-log", action="store_true", help="pas de journal d'accès")
    parser.add_argument("--pid", default=None, help="fichier où écrire le PID du maître")
    parser.add_argument(
        "--print-config",
        action="store_true",
        help="affiche la configuration effective (JSON) et s'arrête",
    )
    return parser


def options(args: list[str], environ: dict[str, str] | None = None) -> dict:
    """The gunicorn settings ``careops serve ARGS`` runs with (French errors exit 2)."""
    from careops import config

    parsed = _parser().parse_args(args)
    conf = config.load(environ)
    config.check_production(conf, environ)
    # what careops.settings refuses when a worker imports it, refused here first: a French
    # message and exit code 2 instead of workers failing to boot behind a gunicorn traceback
    config.check_encryption_key(conf)
    config.cache_url(conf)
    config.log_format(conf)
    config.oidc_providers(environ)
    config.metrics_settings({**conf, "METRICS_DIR": ""})  # no folder created by a check
    for name in ("workers", "threads"):
        value = getattr(parsed, name)
        if value is not None and value < 1:
            raise config.ConfigError(f"--{name} doit être au moins 1")
    cpus, memory = available_cpus(), available_memory_mib()
    workers, threads = sizing(
        cpus,
        memory,
        parsed.workers or conf["WEB_WORKERS"],
        parsed.threads or conf["WEB_THREADS"],
    )
    trusted = config.split(conf["TRUSTED_PROXIES"])
    for item in (item for item in trusted if item != "*"):
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError as exc:
            raise config.ConfigError(
                f"CAREOPS_TRUSTED_PROXIES : « {item} » n'est ni une adresse ni un réseau"
            ) from exc
    settings = {
        "bind": parsed.bind or config.split(conf["WEB_BIND"]),
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "timeout": parsed.timeout,
        "graceful_timeout": parsed.graceful_timeout,
        "keepalive": 75,  # longer than nginx's upstream keepalive_timeout (60 s)
        "max_requests": parsed.max_requests,
        "max_requests_jitter": parsed.max_requests // 10,
        "accesslog": None if parsed.no_access_log else parsed.access_log,
        "access_log_format": ACCESS_LOG_FORMAT,
        "logger_class": "careops.core.accesslog.AccessLogger",
        "errorlog": "-",
        "forwarded_allow_ips": ",".join(trusted) or "127.0.0.1",
        "proc_name": "careops-web",
        "pidfile": parsed.pid,
        "preload_app": False,  # each worker loads the code: SIGHUP picks up an upgrade
        "limit_request_line": 8190,
        # gunicorn's control socket (gunicornc) is not used: signals and systemd drive careops
        "control_socket_disable": True,
    }
    if os.access("/dev/shm", os.W_OK):  # noqa: S108
        # heartbeat files of the workers: gunicorn creates them unlinked, off a slow disk
        settings["worker_tmp_dir"] = "/dev/shm"  # noqa: S108
    return {
        "settings": settings,
        "metrics_dir": str(conf["METRICS_DIR"] or ""),
        "machine": {"cpus": cpus, "memory_mib": memory},
        "data_dir": conf["DATA_DIR"],
        "trusted_proxies": trusted,
        "print": parsed.print_config,
    }


def main(args: list[str]) -> int:
    """``careops serve [OPTIONS]``: run gunicorn in the foreground (this process is its master)."""
    from careops.config import ConfigError

    try:
        effective = options(args)
    except ConfigError as exc:
        sys.stderr.write(f"careops serve : configuration refusée : {exc}\n")
        return 2
    settings = effective["settings"]
    if effective["print"]:
        sys.stdout.write(json.dumps(effective, indent=2, ensure_ascii=False) + "\n")
        return 0
    # WhiteNoise warns in every worker when the collected folder is missing
    (Path(effective["data_dir"]) / "static").mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careops.settings")
    from gunicorn.app.base import BaseApplication

    trusted = effective["trusted_proxies"]
    metrics_dir = effective["metrics_dir"]

    def child_exit(server, worker) -> None:
        """A dead worker's live gauges leave the shared metrics folder at once (the master
        never imports Django: prometheus_client alone)."""
        if metrics_dir:
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(worker.pid, metrics_dir)

    class Server(BaseApplication):
        def load_config(self):
            for key, value in settings.items():
                if value is not None:
                    self.cfg.set(key, value)
            self.cfg.set("child_exit", child_exit)

        def load(self):
            from careops.wsgi import application

            return ForwardedHeadersFilter(application, trusted)

    sys.stderr.write(
        f"careops serve : {settings['workers']} processus × {settings['threads']} fils "
        f"sur {', '.join(settings['bind'])} (machine : {effective['machine']['cpus']} CPU, "
        f"{effective['machine']['memory_mib']} Mio)\n"
    )
    Server().run()
    return 0
