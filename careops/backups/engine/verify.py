"""Run a whole verification: per repository its checks, per protected system its freshness.

Nothing is reported as verified that was not: when a repository cannot be opened (wrong
password, missing, locked), its checks and its systems' freshness are ``error``, never ``ok``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shlex
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from careops.backups.engine import errors, immutability, integrity, restore
from careops.backups.engine.borg import BorgRepository
from careops.backups.engine.config import (
    RepositoryConfig,
    VerifyConfig,
    destinations,
    read_secret,
)
from careops.backups.engine.freshness import Selector, freshness, interval_hours, newest
from careops.backups.engine.jobreports import JobResult, last_success, parse_job_report
from careops.backups.engine.restic import ResticRepository
from careops.backups.engine.results import (
    ERROR,
    FAILED,
    OK,
    WARNING,
    CheckResult,
    RepositoryReport,
    Snapshot,
    SystemReport,
    VerifyReport,
)
from careops.egress import EgressPolicy, EgressRefused, egress_proxy, host_port

Progress = Callable[[int, int, str], None]


@dataclass
class VerifyState:
    """What a run keeps for the next one: the last integrity subset read per repository."""

    subsets: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | None) -> VerifyState:
        if not path or not os.path.exists(path):
            return cls()
        try:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
            return cls(subsets={k: [int(x) for x in v] for k, v in data.get("subsets", {}).items()})
        except (OSError, ValueError, AttributeError):
            return cls()

    def save(self, path: str | None) -> None:
        if not path:
            return
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=".state-")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"subsets": self.subsets}, handle)
        os.replace(temporary, path)


@dataclass
class Egress:
    """The egress policy of a run, and the checking proxy HTTP tools go through."""

    policy: EgressPolicy
    proxy_url: str | None = None


def open_repository(
    config: VerifyConfig,
    repo: RepositoryConfig,
    password: str | None = None,
    egress: Egress | None = None,
):
    """A driver for ``repo``; the password comes from ``password`` or the configured source.

    With ``egress``, every destination of the location is resolved and checked first
    (EgressRefused otherwise); HTTP backends (rest:, s3:) go through the checking proxy and ssh
    backends (borg ssh://, restic sftp:) are told to connect to the checked address.
    """
    pins: list[tuple[str, int, str]] = []
    if egress is not None:
        for host, port in destinations(repo.driver, repo.location):
            pins.append((host, port, egress.policy.resolve(host, port)[0]))
    if password is None:
        password = read_secret(config, repo.password_file, repo.password_env, repo.name)
    env = dict(repo.env)
    for name, path in repo.env_files.items():
        env[name] = read_secret(config, path, None, f"{repo.name}.env_files.{name}")
    if egress is not None and egress.proxy_url:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
            env[name] = egress.proxy_url
        env["NO_PROXY"] = env["no_proxy"] = ""
    cache = config.path(repo.cache_dir)
    location = config.location(repo)
    options: list[str] = []
    ssh = [(host, port, address) for host, port, address in pins if host != address]
    if ssh and repo.driver == "borg":
        env["BORG_RSH"] = " ".join([env.get("BORG_RSH", "ssh"), *_ssh_pin(*ssh[0])])
    elif ssh and repo.driver == "restic" and location.startswith("sftp:"):
        options = ["-o", "sftp.command=" + _sftp_command(location, *ssh[0])]
    if repo.driver == "restic":
        return ResticRepository(
            location, password, cache_dir=cache, env=env, timeout=repo.timeout_s, options=options
        )
    return BorgRepository(location, password, base_dir=cache, env=env, timeout=repo.timeout_s)


_SAFE_NAME = re.compile(r"^[A-Za-z0-9._-]+$")


def _ssh_pin(host: str, port: int, address: str) -> list[str]:
    """ssh options that connect to the checked address while the name still selects the
    ssh configuration and the known host key (no second DNS lookup by ssh)."""
    if not _SAFE_NAME.match(host):
        raise EgressRefused(f"Nom d'hôte ssh refusé : « {host} ».")
    return ["-o", f"HostName={address}", "-o", f"HostKeyAlias={host}"]


def _sftp_command(location: str, host: str, port: int, address: str) -> str:
    """The ssh command restic runs for an sftp: location, pinned to the checked address."""
    rest = location.removeprefix("sftp:")
    if rest.startswith("//"):
        parts = urlsplit("sftp:" + rest)
        user = parts.username or ""
    else:
        user = rest.split("@", 1)[0] if "@" in rest.split(":", 1)[0] else ""
    command = ["ssh", *_ssh_pin(host, port, address), "-p", str(port)]
    if user:
        command += ["-l", user]
    return shlex.join([*command, host, "-s", "sftp"])


def _timed(name: str, func) -> CheckResult:
    started = time.monotonic()
    try:
        result = func()
    except errors.BackupToolError as exc:
        result = CheckResult(name, ERROR, exc.message, {"kind": exc.kind, "detail": exc.detail})
    except errors.ConfigError as exc:
        result = CheckResult(name, ERROR, str(exc), {"kind": errors.CONFIG})
    result.duration_s = round(time.monotonic() - started, 3)
    return result


def _integrity(driver, repo: RepositoryConfig, state: VerifyState) -> CheckResult:
    data = repo.checks.data
    if isinstance(driver, ResticRepository):
        subset = None
        if data:
            history = state.subsets.get(repo.name, [])
            number = integrity.next_subset(history[-1] if history else None, data.cycle)
            subset = f"{number}/{data.cycle}"
        done = driver.check(read_data_subset=subset)
        if data:
            state.subsets[repo.name] = (state.subsets.get(repo.name, []) + [number])[-data.cycle :]
        what = f"structure et données, sous-ensemble {subset}" if subset else "structure"
        details = {"subset": subset, "exit_code": done.returncode}
        if data:
            details["cycle_coverage"] = integrity.cycle_coverage(
                state.subsets[repo.name], data.cycle
            )
    else:
        verify = bool(data and not data.max_duration)
        done = driver.check(verify_data=verify, max_duration=data.max_duration if data else None)
        what = (
            "vérification cryptographique de toutes les données (--verify-data)"
            if verify
            else (
                f"contrôle partiel du dépôt ({data.max_duration} s, reprend au prochain passage)"
                if data
                else "structure du dépôt et des archives"
            )
        )
        details = {"exit_code": done.returncode}
    if done.returncode != 0:  # borg check reports found errors with code 1
        details["output"] = "\n".join(
            line for line in (done.stdout + "\n" + done.stderr).splitlines() if line.strip()
        )[-2000:]
        return CheckResult("integrity", FAILED, f"erreurs d'intégrité détectées ({what})", details)
    return CheckResult("integrity", OK, f"aucune erreur ({what})", details)


def _restore(
    config: VerifyConfig, driver, repo: RepositoryConfig, snapshots: list[Snapshot], now
) -> CheckResult:
    spec = repo.checks.restore
    system = config.system(spec.system)
    if spec.snapshot == "latest":
        chosen = newest(snapshots, Selector(**system.match.model_dump()))
    else:
        chosen = next((s for s in snapshots if spec.snapshot in (s.id, s.name)), None)
    if chosen is None:
        return CheckResult("restore", FAILED, f"aucun point de restauration pour « {system.name} »")
    scratch = None
    target = config.path(spec.target)
    if target is None:
        base = config.path(config.work_dir)
        if base:
            os.makedirs(base, exist_ok=True)
        scratch = tempfile.mkdtemp(prefix=f"careops-restore-{repo.name}-", dir=base)
        target = scratch
    reference = chosen.name if isinstance(driver, BorgRepository) else chosen.id
    details = {"snapshot": chosen.name or chosen.id, "snapshot_time": chosen.time, "target": target}
    try:
        try:
            seconds = driver.restore(reference, target, spec.include)
        except errors.BackupToolError as exc:
            status = ERROR if exc.kind != errors.FAILED else FAILED
            details.update({"kind": exc.kind, "detail": exc.detail})
            return CheckResult(
                "restore", status, f"restauration impossible vers {target} : {exc.message}", details
            )
        except OSError as exc:
            return CheckResult(
                "restore",
                FAILED,
                f"restauration impossible vers {target} : {exc.strerror}",
                details,
            )
        source = spec.source_path or (chosen.paths[0] if len(chosen.paths) == 1 else "")
        root = restore.locate_root(target, source) if source else target
        hashing = time.monotonic()
        restored = restore.build_manifest(root) if os.path.isdir(root) else {}
        details.update(
            {
                "restore_seconds": round(seconds, 3),
                "checksum_seconds": round(time.monotonic() - hashing, 3),
                "files": len(restored),
                "bytes": sum(os.path.getsize(os.path.join(root, p)) for p in restored),
            }
        )
        problems = []
        if spec.manifest:
            try:
                with open(config.path(spec.manifest), encoding="utf-8") as handle:
                    expected = restore.read_manifest(handle.read())
            except (OSError, ValueError) as exc:
                return CheckResult("restore", ERROR, f"manifeste illisible : {exc}", details)
            if spec.include:
                expected = {
                    p: d
                    for p, d in expected.items()
                    if any(os.path.join(source, p).startswith(i.rstrip("/")) for i in spec.include)
                }
            diff = restore.compare(expected, restored)
            details["comparison"] = {k: v[:50] for k, v in diff.items()}
            details["compared_files"] = len(expected)
            if diff["missing"] or diff["different"]:
                problems.append(
                    f"{len(diff['different'])} fichier(s) différent(s), "
                    f"{len(diff['missing'])} manquant(s) sur {len(expected)}"
                )
        elif not restored:
            problems.append("aucun fichier restauré")
        if problems:
            return CheckResult(
                "restore", FAILED, "restauration incorrecte : " + " ; ".join(problems), details
            )
        checked = (
            f"{details['compared_files']} empreintes SHA-256 identiques au manifeste"
            if spec.manifest
            else f"{len(restored)} fichier(s) restauré(s), sans manifeste de référence"
        )
        message = f"restauré en {seconds:.1f} s ; {checked}".replace(".", ",", 1)
        if system.rto_hours and seconds > system.rto_hours * 3600:
            return CheckResult(
                "restore",
                FAILED,
                message + f" ; durée au-delà de la DMIA (RTO) de {system.rto_hours} h",
                details,
            )
        return CheckResult("restore", OK if spec.manifest else WARNING, message, details)
    finally:
        if scratch and not spec.keep:
            shutil.rmtree(scratch, ignore_errors=True)


def _object_lock(
    config: VerifyConfig,
    repo: RepositoryConfig,
    now,
    keys: tuple[str, str] | None = None,
    egress: Egress | None = None,
) -> CheckResult:
    """The S3 Object Lock probe; ``keys`` (access, secret) given by the caller win over the
    configuration's files or variables (the operator's own configuration only)."""
    spec = repo.checks.object_lock
    if keys is not None:
        access, secret = keys
    else:
        access = read_secret(config, spec.access_key_file, spec.access_key_env, "access_key")
        secret = read_secret(config, spec.secret_key_file, spec.secret_key_env, "secret_key")
    if egress is not None:
        if not spec.endpoint:
            return CheckResult("object_lock", ERROR, "point d'accès S3 obligatoire")
        scheme = spec.endpoint.split("://", 1)[0].lower()
        if scheme not in ("http", "https"):
            return CheckResult("object_lock", ERROR, "point d'accès S3 : http(s)://hôte attendu")
        try:
            egress.policy.resolve(*host_port(spec.endpoint, 443 if scheme == "https" else 80))
        except EgressRefused as exc:
            return CheckResult("object_lock", ERROR, f"sonde S3 refusée : {exc}")
    target = immutability.S3Target(
        bucket=spec.bucket,
        endpoint_url=spec.endpoint,
        region=spec.region,
        access_key=access or None,
        secret_key=secret or None,
        min_retention_days=spec.min_retention_days,
        probe_delete=spec.probe_delete,
        proxy_url=egress.proxy_url if egress else None,
    )
    return immutability.probe_s3_object_lock(target, now)


def verify_repository(
    config: VerifyConfig,
    repo: RepositoryConfig,
    state: VerifyState,
    now: dt.datetime,
    password: str | None = None,
    step: Callable[[str], None] = lambda label: None,
    s3_keys: tuple[str, str] | None = None,
    egress: Egress | None = None,
) -> tuple[RepositoryReport, list[Snapshot] | None]:
    """Every check configured for one repository; snapshots are None when it cannot be read."""
    report = RepositoryReport(repo.name, repo.driver, repo.location)
    try:
        driver = open_repository(config, repo, password, egress)
        report.tool_version = ".".join(str(x) for x in driver.version())
    except (errors.BackupToolError, errors.ConfigError, EgressRefused) as exc:
        report.checks.append(CheckResult("access", ERROR, getattr(exc, "message", str(exc))))
        return report, None
    step(f"{repo.name} : liste des points de restauration")
    snapshots: list[Snapshot] = []

    def _list():
        snapshots.extend(driver.snapshots())
        return CheckResult("access", OK, f"dépôt ouvert, {len(snapshots)} point(s) de restauration")

    access = _timed("access", _list)
    report.checks.append(access)
    if access.status != OK:
        return report, None
    report.snapshot_count = len(snapshots)
    checks = repo.checks
    if checks.structure or checks.data:
        step(f"{repo.name} : intégrité")
        report.checks.append(_timed("integrity", lambda: _integrity(driver, repo, state)))
    if checks.append_only:
        step(f"{repo.name} : ajout seul")
        report.checks.append(
            _timed("append_only", lambda: immutability.probe_borg_append_only(driver))
        )
    if checks.object_lock:
        step(f"{repo.name} : verrouillage S3")
        report.checks.append(
            _timed("object_lock", lambda: _object_lock(config, repo, now, s3_keys, egress))
        )
    if checks.restore:
        step(f"{repo.name} : test de restauration")
        report.checks.append(
            _timed("restore", lambda: _restore(config, driver, repo, snapshots, now))
        )
    return report, snapshots


def count_steps(config: VerifyConfig) -> int:
    """How many progress steps ``run_verification`` reports."""
    total = len(config.systems) + (1 if config.job_reports else 0)
    for repo in config.repositories:
        c = repo.checks
        total += 1 + bool(c.structure or c.data) + c.append_only + bool(c.object_lock)
        total += bool(c.restore)
    return max(total, 1)


def system_freshness(
    system, snapshots: list[Snapshot] | None, repo_report: RepositoryReport | None, now
) -> SystemReport:
    """Freshness of one system from its repository's snapshots (None: repository unreadable)."""
    report = SystemReport(system.name, system.rpo_hours, system.rto_hours)
    if snapshots is None:
        why = repo_report.checks[0].message if repo_report and repo_report.checks else ""
        report.checks.append(
            CheckResult(
                "freshness", ERROR, f"non vérifié : dépôt « {system.repository} » illisible ({why})"
            )
        )
        return report
    selector = Selector(**system.match.model_dump())
    chosen = newest(snapshots, selector)
    _fill(report, chosen.time if chosen else None, now, f"dépôt « {system.repository} »")
    report.interval_hours = interval_hours(snapshots, selector)
    return report


def _fill(report: SystemReport, newest_time, now, source: str) -> None:
    result = freshness(newest_time, report.rpo_hours, now, source)
    report.newest = newest_time
    if newest_time:
        report.age_hours = round((now - newest_time).total_seconds() / 3600, 3)
    report.checks.append(result)


def run_verification(
    config: VerifyConfig,
    now: dt.datetime | None = None,
    passwords: dict[str, str] | None = None,
    progress: Progress | None = None,
    state: VerifyState | None = None,
    s3_keys: dict[str, tuple[str, str]] | None = None,
    egress: EgressPolicy | None = None,
) -> VerifyReport:
    """Run every configured check; ``progress(done, total, label)`` is called before each step.

    ``s3_keys`` gives the S3 credentials per repository (stored encrypted by the web app);
    ``egress`` applies the egress policy to every connection (web runs; the CLI runs the
    operator's own configuration without one).
    """
    if egress is not None:
        with egress_proxy(egress) as proxy:
            return _run_verification(
                config, now, passwords, progress, state, s3_keys, Egress(egress, proxy.url)
            )
    return _run_verification(config, now, passwords, progress, state, s3_keys, None)


def _run_verification(config, now, passwords, progress, state, s3_keys, egress) -> VerifyReport:
    now = now or dt.datetime.now(dt.UTC)
    started = dt.datetime.now(dt.UTC)
    persist = state is None
    state = state or VerifyState.load(config.path(config.state_file))
    total = count_steps(config)
    done = {"n": 0}

    def step(label: str) -> None:
        if progress:
            progress(done["n"], total, label)
        done["n"] += 1

    repo_reports: dict[str, tuple[RepositoryReport, list[Snapshot] | None]] = {}
    for repo in config.repositories:
        step(f"{repo.name} : ouverture")
        repo_reports[repo.name] = verify_repository(
            config,
            repo,
            state,
            now,
            (passwords or {}).get(repo.name),
            step,
            (s3_keys or {}).get(repo.name),
            egress,
        )
    jobs: list[JobResult] = []
    job_error = ""
    if config.job_reports:
        step("rapports de tâches")
        for spec in config.job_reports:
            try:
                with open(config.path(spec.path), "rb") as handle:
                    jobs += parse_job_report(handle.read(), spec.format, spec.path)
            except OSError as exc:
                job_error = f"{spec.path} : lecture impossible ({exc.strerror})"
            except errors.ConfigError as exc:
                job_error = str(exc)
    systems = []
    for system in config.systems:
        step(f"{system.name} : fraîcheur")
        if system.repository:
            report, snapshots = repo_reports[system.repository]
            sreport = system_freshness(system, snapshots, report, now)
            restore_check = next(
                (
                    c
                    for c in report.checks
                    if c.name == "restore"
                    and config.repository(system.repository).checks.restore.system == system.name
                ),
                None,
            )
            if restore_check:
                sreport.checks.append(restore_check)
        else:
            sreport = SystemReport(system.name, system.rpo_hours, system.rto_hours)
            if job_error:
                sreport.checks.append(CheckResult("freshness", ERROR, f"non vérifié : {job_error}"))
            else:
                name = system.job_name or system.name
                last = last_success(jobs, name)
                _fill(sreport, last.finished if last else None, now, "rapport de tâches")
                failures = [
                    j
                    for j in jobs
                    if j.system == name
                    and j.status == "failed"
                    and (last is None or j.finished > last.finished)
                ]
                if failures:
                    sreport.checks.append(
                        CheckResult(
                            "jobs",
                            FAILED,
                            f"{len(failures)} tâche(s) en échec depuis la dernière réussite",
                            {"messages": [f.message for f in failures[-5:]]},
                        )
                    )
        systems.append(sreport)
    if persist:
        state.save(config.path(config.state_file))
    if progress:
        progress(total, total, "terminé")
    return VerifyReport(
        started_at=started,
        finished_at=dt.datetime.now(dt.UTC),
        repositories=[r for r, _ in repo_reports.values()],
        systems=systems,
    )
