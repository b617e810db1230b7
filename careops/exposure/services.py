"""Exposure app services: scope and proof of ownership, runs as sharded tasks, findings over
time, remediation and D1.O2.B evidence. Views, API and tasks call these; none filters by hand."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import logging
import os
import re
import socket

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, F, IntegerField, Value, When
from django.utils import timezone

from careops.core import audit
from careops.exposure.engine import ScanOptions, rules, scanner
from careops.exposure.engine import targets as engine_targets
from careops.exposure.engine.portscan import PortScanOptions
from careops.exposure.engine.results import ScanResult, result_from_json
from careops.exposure.models import (
    ACTIVE_RUN_STATUSES,
    Asset,
    AssetKind,
    AssetStatus,
    ExposureProfile,
    Finding,
    FindingStatus,
    RunStatus,
    ScanRun,
    ScanShard,
)
from careops.tenancy import scope
from careops.tenancy.choices import OrgKind, Role
from careops.tenancy.models import Organisation

logger = logging.getLogger("careops.exposure")

SHARD_SIZE = 16  # hosts per block: several workers share one audit
LEASE = dt.timedelta(minutes=30)
# An ARS instructor or a platform administrator approves ranges and resolved addresses; an
# ARS instructor up to APPROVAL_MAX_ADDRESSES per asset (a /22 in IPv4, a /118 in IPv6: the same
# 1 024 addresses), an administrator up to the engine's limit.
APPROVAL_MAX_ADDRESSES = 1024
HOLDER_MAX_LENGTH = Asset._meta.get_field("holder").max_length
ATTESTATION_MAX_LENGTH = 4000  # holder, RIPE reference, contract: a paragraph, not a file
ESTABLISHMENT_ROLES = {Role.GHT_RSSI, Role.ES_RSSI, Role.CONTRIBUTOR, Role.READER}

_STATUS_RANK = {
    FindingStatus.OPEN: 0,
    FindingStatus.IN_PROGRESS: 0,
    FindingStatus.ACCEPTED: 1,
    FindingStatus.FALSE_POSITIVE: 2,
    FindingStatus.FIXED: 3,
}
_SEVERITY_RANK = {s: i for i, s in enumerate(rules.SEVERITIES)}  # the engine's order


def by_priority(findings):
    """Findings in the order a security team works them: the ones still to fix (open or in
    progress) first, then accepted risks, false positives and fixed ones; within each, the
    most severe (and KEV) first."""

    def rank(field, values):
        return Case(
            *(When(**{field: v}, then=Value(i)) for v, i in values.items()),
            default=Value(len(values)),
            output_field=IntegerField(),
        )

    return findings.order_by(
        rank("status", _STATUS_RANK), rank("severity", _SEVERITY_RANK), "-kev", "host", "port", "pk"
    )


def profile_for(organisation) -> ExposureProfile:
    profile, _created = ExposureProfile.objects.get_or_create(organisation=organisation)
    return profile


def _covers(grant, organisation) -> bool:
    return grant.organisation_id == organisation.pk or (
        grant.include_subtree and organisation.path.startswith(grant.path)
    )


def _holds_role_over(user, organisation, roles: set[str]) -> bool:
    """Whether ``user`` holds one of ``roles`` on ``organisation`` or on an ancestor (subtree)."""
    return any(g.role in roles and _covers(g, organisation) for g in scope.grants(user))


def belongs_to(user, organisation) -> bool:
    """Whether ``user`` holds an establishment role on ``organisation``, above it (GHT) or
    under it: such a person never approves the organisation's own scope."""
    for grant in scope.grants(user):
        if grant.role not in ESTABLISHMENT_ROLES:
            continue
        if _covers(grant, organisation) or grant.path.startswith(organisation.path):
            return True
    return False


def _regional_instructor(user, organisation) -> bool:
    """An ARS instructor granted on the ARS node of the organisation's region."""
    ids = [
        g.organisation_id
        for g in scope.grants(user)
        if g.role == Role.ARS_INSTRUCTOR and _covers(g, organisation)
    ]
    return (
        bool(ids)
        and Organisation.objects.filter(
            pk__in=ids, kind=OrgKind.ARS, region_code=organisation.region_code
        ).exists()
    )


def can_approve(user, organisation) -> bool:
    """Ranges (and resolved addresses) are approved by an ARS instructor of the organisation's
    region or a platform administrator — never by someone of the organisation itself."""
    if belongs_to(user, organisation):
        return False
    return is_administrator(user, organisation) or _regional_instructor(user, organisation)


def is_administrator(user, organisation) -> bool:
    return _holds_role_over(user, organisation, {Role.ADMINISTRATOR})


# ------------------------------------------------------------------ assets and verification


RANGE_WITH_DASH = re.compile(r"^\d{1,3}(\.\d{1,3}){3}\s*-\s*[\d.]+$")


def classify_asset(value: str) -> tuple[str, str]:
    """Normalise a declared value and return (kind, value); French ValidationError if invalid."""
    text = (value or "").strip().lower().rstrip(".")
    if not text:
        raise ValidationError(
            {"value": ["Indiquez un domaine, un nom d'hôte ou une plage d'adresses."]}
        )
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        network = None
    if network is not None:
        if network.num_addresses > engine_targets.MAX_ADDRESSES:
            raise ValidationError(
                {"value": [f"Plage trop grande (au plus {engine_targets.MAX_ADDRESSES} adresses)."]}
            )
        kind = AssetKind.IPV4 if network.version == 4 else AssetKind.IPV6
        return kind, str(network)
    if RANGE_WITH_DASH.match(text):
        # the command line's a.b.c.d-e: it passed the host-name pattern and was stored as a name
        # to prove by DNS TXT, which no address range can be
        raise ValidationError(
            {
                "value": [
                    f"« {value} » : déclarez une plage d'adresses en notation CIDR "
                    "(par exemple 192.0.2.0/28)."
                ]
            }
        )
    if (
        "/" in text
        or not engine_targets.HOSTNAME_RE.match(text)
        or "." not in text
        or text.replace(".", "").isdigit()
    ):
        raise ValidationError(
            {"value": [f"« {value} » n'est ni un nom de domaine ni une plage d'adresses valide."]}
        )
    kind = AssetKind.DOMAIN if text.count(".") == 1 else AssetKind.HOSTNAME
    return kind, text


def declare_asset(user, organisation, value: str) -> Asset:
    """Declare an asset (pending verification)."""
    if not scope.can(user, "manage", organisation):
        raise PermissionDenied("Vous ne pouvez pas déclarer d'actif pour cette organisation.")
    kind, normalised = classify_asset(value)
    if Asset.objects.filter(organisation=organisation, value=normalised).exists():
        raise ValidationError({"value": [f"« {normalised} » est déjà déclaré."]})
    asset = Asset.objects.create(
        organisation=organisation, kind=kind, value=normalised, created_by=user
    )
    audit.record(
        user,
        "exposure.asset.declare",
        asset,
        organisation,
        f"actif « {normalised} » déclaré ({asset.get_kind_display()})",
    )
    return asset


def _resolver():
    return engine_targets.make_resolver(
        getattr(settings, "EXPOSURE_NAMESERVERS", None) or None, 3.0
    )


def verify_domain(user, asset: Asset) -> bool:
    """Look for the TXT token at _careops-challenge.<name> (or the name itself)."""
    if not scope.can(user, "manage", asset):
        raise PermissionDenied("Vous ne pouvez pas vérifier cet actif.")
    if asset.is_network:
        raise ValidationError("Une plage d'adresses se prouve par attestation, pas par DNS.")

    async def lookup():
        resolver = _resolver()
        found = await engine_targets.txt_records(asset.txt_name, resolver)
        return found + await engine_targets.txt_records(asset.value, resolver)

    records = asyncio.run(lookup())
    if asset.txt_value in records:
        asset.status = AssetStatus.VERIFIED
        asset.verified_by, asset.verified_at = user, timezone.now()
        asset.verification_note = f"enregistrement TXT trouvé sur {asset.txt_name}"
        asset.save()
        audit.record(
            user,
            "exposure.asset.verify",
            asset,
            asset.organisation,
            f"« {asset.value} » vérifié par DNS TXT",
        )
        resolve_and_record(asset)
        return True
    asset.verification_note = f"jeton absent du DNS ({len(records)} enregistrement(s) TXT lus)"
    asset.save(update_fields=["verification_note"])
    return False


def attest_range(user, asset: Asset, text: str) -> Asset:
    """The establishment attests that it holds the range (to be approved)."""
    if not scope.can(user, "manage", asset):
        raise PermissionDenied("Vous ne pouvez pas attester cet actif.")
    if not asset.is_network:
        raise ValidationError("Un nom se prouve par enregistrement DNS TXT.")
    if len((text or "").strip()) < 20:
        raise ValidationError(
            {
                "attestation": [
                    "Décrivez l'attestation (au moins 20 caractères : titulaire, référence RIPE, contrat…)."
                ]
            }
        )
    if len(text.strip()) > ATTESTATION_MAX_LENGTH:
        raise ValidationError(
            {
                "attestation": [
                    f"Attestation trop longue (au plus {ATTESTATION_MAX_LENGTH} caractères) : "
                    "résumez-la et gardez le contrat ou l'extrait RIPE dans vos preuves."
                ]
            }
        )
    asset.attestation = text.strip()
    asset.attested_by, asset.attested_at = user, timezone.now()
    asset.status = AssetStatus.ATTESTED
    asset.save()
    audit.record(
        user,
        "exposure.asset.attest",
        asset,
        asset.organisation,
        f"attestation déposée pour « {asset.value} »",
    )
    return asset


def approval_limit_text(asset: Asset) -> str:
    """Why an ARS instructor cannot approve ``asset`` alone ("" when the size is fine)."""
    if asset.address_count <= APPROVAL_MAX_ADDRESSES:
        return ""
    return (
        f"« {asset.value} » compte {asset.address_count} adresses : au-delà de "
        f"{APPROVAL_MAX_ADDRESSES} (un /22 en IPv4, un /118 en IPv6) par actif, seul un "
        "administrateur de la plateforme peut l'approuver. Sinon, déclarez des plages plus petites."
    )


def approve_range(user, asset: Asset, approve: bool = True, holder: str = "") -> Asset:
    """An ARS instructor of the region or a platform administrator approves (or rejects) a range
    or a resolved address, recording its holder as they saw it (RIPE, operator, host)."""
    organisation = asset.organisation
    if not can_approve(user, organisation):
        raise PermissionDenied(
            "Seul un instructeur ARS de la région de l'organisation ou un administrateur de la "
            "plateforme approuve une plage d'adresses, jamais une personne de l'organisation."
        )
    if asset.status != AssetStatus.ATTESTED:
        raise ValidationError("Aucune attestation en attente pour cet actif.")
    if user.pk in (asset.attested_by_id, asset.created_by_id):
        raise PermissionDenied("L'auteur de l'attestation ne peut pas l'approuver.")
    holder = (holder or "").strip()
    if len(holder) > HOLDER_MAX_LENGTH:  # the column's width: PostgreSQL refused it with a 500
        raise ValidationError(
            {"holder": [f"Titulaire trop long (au plus {HOLDER_MAX_LENGTH} caractères)."]}
        )
    if approve:
        if len(holder) < 3:
            raise ValidationError(
                {
                    "holder": [
                        "Indiquez le titulaire de la plage tel que vous l'avez constaté "
                        "(ex. : inetnum RIPE au nom du CH, opérateur, hébergeur)."
                    ]
                }
            )
        if approval_limit_text(asset) and not is_administrator(user, organisation):
            raise PermissionDenied(approval_limit_text(asset))
    before = asset.get_status_display()
    asset.status = AssetStatus.VERIFIED if approve else AssetStatus.REJECTED
    asset.verified_by, asset.verified_at = user, timezone.now()
    asset.holder = holder
    asset.save()
    verb = "approuvée" if approve else "refusée"
    audit.record(
        user,
        "exposure.asset.approve",
        asset,
        organisation,
        f"attestation de « {asset.value} » ({asset.address_count} adresse(s)) {verb}"
        + (f", titulaire constaté : {holder}" if holder else ""),
        {"status": [before, asset.get_status_display()], "holder": holder},
    )
    return asset


def record_resolved_addresses(asset: Asset, addresses: list[str]) -> list[Asset]:
    """Record the addresses a verified name resolves to that no approved range covers: each
    becomes a /32 (/128) asset to attest and approve like a range; return the new ones."""
    organisation = asset.organisation
    approved = [
        a.value
        for a in Asset.objects.filter(
            organisation=organisation,
            kind__in=[AssetKind.IPV4, AssetKind.IPV6],
            status=AssetStatus.VERIFIED,
        )
    ]
    created = []
    for address in addresses:
        if engine_targets.in_scope(address, approved):
            continue
        network = ipaddress.ip_network(address)
        value = str(network)
        if Asset.objects.filter(organisation=organisation, value=value).exists():
            continue
        kind = AssetKind.IPV4 if network.version == 4 else AssetKind.IPV6
        derived = Asset.objects.create(
            organisation=organisation, kind=kind, value=value, resolved_from=asset
        )
        audit.record(
            None,
            "exposure.asset.resolved",
            derived,
            organisation,
            f"« {asset.value} » résout en {address}, hors des plages approuvées : "
            "adresse à attester et à faire approuver avant tout audit",
        )
        created.append(derived)
    return created


def resolve_and_record(asset: Asset) -> list[Asset]:
    """Resolve a verified name now and record its unapproved addresses (see above)."""

    async def lookup():
        return await engine_targets.resolve(asset.value, _resolver())

    resolution = asyncio.run(lookup())
    if resolution.error:
        return []
    return record_resolved_addresses(asset, resolution.a + resolution.aaaa)


def set_internal_audit(user, organisation, enabled: bool) -> ExposureProfile:
    """Only an administrator allows private, loopback and link-local addresses."""
    if not is_administrator(user, organisation):
        raise PermissionDenied("Seul un administrateur peut autoriser l'audit interne.")
    profile = profile_for(organisation)
    profile.internal_audit = enabled
    profile.internal_audit_set_by = user
    profile.save()
    audit.record(
        user,
        "exposure.internal_audit",
        profile,
        organisation,
        f"audit interne {'autorisé' if enabled else 'retiré'}",
    )
    return profile


def update_profile(user, organisation, ports: str, monthly: bool) -> ExposureProfile:
    if not scope.can(user, "manage", organisation):
        raise PermissionDenied("Vous ne pouvez pas modifier ce profil.")
    try:
        engine_targets.parse_ports(ports)
    except engine_targets.TargetError as exc:
        raise ValidationError({"ports": [str(exc)]}) from None
    profile = profile_for(organisation)
    profile.ports, profile.monthly = ports.strip() or "default", monthly
    profile.save()
    return profile


# ------------------------------------------------------------------ runs


def verified_scope(organisation) -> dict:
    """What an audit may touch: verified names and approved ranges as targets; approved
    ranges and approved addresses of names as the only networks a name may lead to."""
    assets = list(Asset.objects.filter(organisation=organisation, status=AssetStatus.VERIFIED))
    profile = profile_for(organisation)
    return {
        # an approved address of a name is scanned only while the name resolves to it
        "targets": [a.value for a in assets if a.resolved_from_id is None],
        "networks": [a.value for a in assets if a.is_network],
        "domains": [a.value for a in assets if not a.is_network],
        "ports": profile.ports,
        "allow_private": profile.internal_audit,
    }


def start_run(user, organisation, trigger: str = "manual") -> ScanRun:
    """Queue an audit of the verified scope; one active audit per organisation."""
    if user is not None and not scope.can(user, "manage", organisation):
        raise PermissionDenied("Vous ne pouvez pas lancer d'audit pour cette organisation.")
    run_scope = verified_scope(organisation)
    if not run_scope["targets"]:
        raise ValidationError(
            "Aucun actif vérifié : déclarez et vérifiez au moins un domaine ou une plage."
        )
    try:
        with transaction.atomic():
            run = ScanRun.objects.create(
                organisation=organisation, requested_by=user, trigger=trigger, scope=run_scope
            )
    except IntegrityError:
        raise ValidationError("Un audit est déjà en cours pour cette organisation.") from None
    audit.record(
        user,
        "exposure.run.start",
        run,
        organisation,
        f"audit d'exposition demandé ({trigger}) : {', '.join(run_scope['targets'])} ; ports {run_scope['ports']}"
        + (" ; audit interne" if run_scope["allow_private"] else ""),
    )
    from careops.exposure import tasks

    transaction.on_commit(lambda: tasks.plan_run_task(run.pk))
    return run


def cancel_run(user, run: ScanRun) -> ScanRun:
    if not scope.can(user, "manage", run):
        raise PermissionDenied("Vous ne pouvez pas annuler cet audit.")
    updated = ScanRun.objects.filter(pk=run.pk, status__in=ACTIVE_RUN_STATUSES).update(
        status=RunStatus.CANCELLED, finished_at=timezone.now()
    )
    if updated:
        ScanShard.objects.filter(run=run, status=RunStatus.QUEUED).update(
            status=RunStatus.CANCELLED
        )
        audit.record(user, "exposure.run.cancel", run, run.organisation, f"audit {run.pk} annulé")
    run.refresh_from_db()
    return run


def _options(run: ScanRun) -> ScanOptions:
    run_scope = run.scope
    options = ScanOptions(
        ports=engine_targets.parse_ports(run_scope.get("ports")),
        portscan=PortScanOptions(**getattr(settings, "EXPOSURE_PORTSCAN", {})),
        allow_private=bool(run_scope.get("allow_private")),
        scope_networks=run_scope.get("networks", []),
        scope_domains=run_scope.get("domains", []),
        nameservers=getattr(settings, "EXPOSURE_NAMESERVERS", None) or None,
        vulndb_path=vulndb_path(),
        tls_connections=settings.EXPOSURE_TLS_CONNECTIONS,
    )
    # an internal audit (private addresses: medical devices on the LAN) is gentle by default
    return scanner.internal_profile(options) if options.allow_private else options


def vulndb_path() -> str | None:
    path = settings.DATA_DIR / "vulndb.sqlite3"
    return str(path) if path.exists() else None


def plan_run(run_id: int) -> None:
    """Resolve and scope-check the targets, then split the hosts into shards (idempotent)."""
    run = ScanRun.objects.get(pk=run_id)
    if run.status not in ACTIVE_RUN_STATUSES:
        return
    if not run.shards.exists():
        _record_names_of(run)
        addresses, errors = asyncio.run(scanner.expand_targets(run.scope["targets"], _options(run)))
        items = list(addresses.items())
        with transaction.atomic():
            locked = ScanRun.objects.select_for_update().get(pk=run_id)
            if locked.shards.exists():
                return plan_run(run_id)
            for index in range(0, max(len(items), 1), SHARD_SIZE):
                ScanShard.objects.create(
                    run=locked,
                    index=index // SHARD_SIZE,
                    addresses=dict(items[index : index + SHARD_SIZE]),
                )
            locked.hosts_total = len(items)
            locked.errors = errors
            locked.status = RunStatus.RUNNING
            locked.started_at = timezone.now()
            locked.save()
    from careops.exposure import tasks

    for shard_id in run.shards.filter(status=RunStatus.QUEUED).values_list("pk", flat=True):
        tasks.run_shard_task(shard_id)


def _record_names_of(run: ScanRun) -> None:
    """Before a run: show the user the addresses of its names that need an approval (the
    engine refuses them, since they lie outside the run's approved networks)."""
    for asset in Asset.objects.filter(
        organisation=run.organisation,
        status=AssetStatus.VERIFIED,
        kind__in=[AssetKind.DOMAIN, AssetKind.HOSTNAME],
    ):
        try:
            resolve_and_record(asset)
        except Exception:  # the engine reports DNS failures in the run's errors
            logger.warning("resolution of %s failed before run %s", asset.value, run.pk)


def run_shard(shard_id: int) -> None:
    """Scan one block of hosts; a block already done, or leased by a live worker, is skipped."""
    now = timezone.now()
    me = f"{socket.gethostname()}:{os.getpid()}"
    # the attempt is counted in the claim itself: a worker killed right after claiming (before
    # a second statement) used to leave the count one short
    taken = {
        "lease_until": now + LEASE,
        "hosts_done": 0,
        "worker": me,
        "attempts": F("attempts") + 1,
    }
    claimed = (
        ScanShard.objects.filter(pk=shard_id, run__status=RunStatus.RUNNING)
        .filter(status=RunStatus.QUEUED)
        .update(status=RunStatus.RUNNING, **taken)
    )
    if not claimed:
        claimed = ScanShard.objects.filter(
            pk=shard_id,
            run__status=RunStatus.RUNNING,
            status=RunStatus.RUNNING,
            lease_until__lt=now,
        ).update(**taken)
    if not claimed:
        return
    shard = ScanShard.objects.select_related("run").get(pk=shard_id)
    run = shard.run

    if shard.addresses:
        data = _scan_with_progress(shard_id, run, shard.addresses)
    else:
        data = ScanResult().to_json()
    ScanShard.objects.filter(pk=shard_id, status=RunStatus.RUNNING).update(
        status=RunStatus.DONE, result=data, hosts_done=len(shard.addresses)
    )
    finalize_run(run.pk)


def _scan_with_progress(shard_id: int, run: ScanRun, addresses: dict) -> dict:
    """Run the engine in its own thread (its event loop never touches the database) and write
    the hosts-done counter from this thread as the engine reports them."""
    import concurrent.futures
    import queue

    events: queue.Queue = queue.Queue()
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        future = pool.submit(
            scanner.scan_sync,
            [],
            _options(run),
            timezone.now(),
            on_host_done=lambda host: events.put(host.address),
            addresses=addresses,
            discover=scanner.range_members(run.scope.get("targets", [])),
        )
        done = 0
        while not (future.done() and events.empty()):
            try:
                events.get(timeout=0.5)
            except queue.Empty:
                continue
            done += 1
            ScanShard.objects.filter(pk=shard_id).update(hosts_done=done)
        return future.result().to_json()


def resume_stale() -> int:
    """Re-queue the blocks of dead workers (expired lease) and blocks never started."""
    from careops.exposure import tasks

    now = timezone.now()
    count = 0
    for run in ScanRun.objects.filter(
        status=RunStatus.QUEUED, created_at__lt=now - dt.timedelta(minutes=5)
    ):
        tasks.plan_run_task(run.pk)
        count += 1
    stale = ScanShard.objects.filter(run__status=RunStatus.RUNNING).filter(
        status=RunStatus.RUNNING, lease_until__lt=now
    ) | ScanShard.objects.filter(run__status=RunStatus.RUNNING, status=RunStatus.QUEUED)
    for shard_id in stale.values_list("pk", flat=True):
        tasks.run_shard_task(shard_id)
        count += 1
    return count


def merge(run: ScanRun, shards) -> ScanResult:
    """One result from the blocks: hosts, findings re-sorted, level recomputed over all."""
    merged = ScanResult(
        started_at=(run.started_at or run.created_at).isoformat(), errors=list(run.errors)
    )
    for shard in shards:
        part = result_from_json(shard.result)
        merged.hosts.extend(part.hosts)
        merged.findings.extend(part.findings)
        merged.errors.extend(part.errors)
        merged.catalogues.update(part.catalogues)
    merged.hosts.sort(key=lambda h: ipaddress.ip_address(h.address))
    order = rules.SEVERITIES
    merged.findings.sort(
        key=lambda f: (order.index(f.severity), not f.kev, f.host, f.port or 0, f.rule)
    )
    merged.exposure_level, merged.minimum_level_met = rules.result_level(
        merged.hosts, merged.findings
    )
    merged.finished_at = timezone.now().isoformat()
    return merged


def finalize_run(run_id: int) -> None:
    """When every block is done: merge, diff with earlier runs, evidence. Runs once."""
    with transaction.atomic():
        run = ScanRun.objects.select_for_update().get(pk=run_id)
        if run.status != RunStatus.RUNNING:
            return
        shards = list(run.shards.all())
        if any(s.status != RunStatus.DONE for s in shards):
            return
        result = merge(run, shards)
        run.result = result.to_json()
        run.exposure_level = result.exposure_level
        # no host analysed: no level at all (None), never "minimum met"
        run.minimum_level_met = result.minimum_level_met if result.exposure_level else None
        run.errors = (
            result.errors
            if rules.analysed(result.hosts)
            else [*result.errors, rules.NO_HOST_MESSAGE]
        )
        run.status = RunStatus.DONE
        run.finished_at = timezone.now()
        run.diff = track_findings(run, result)
        run.save()
        if not run.exposure_level:
            audit.record(
                None,
                "exposure.run.done",
                run,
                run.organisation,
                f"audit {run.pk} terminé sans aucun hôte analysé : ni niveau ni preuve",
            )
            logger.warning("exposure run %s analysed no host: no level, no evidence", run.pk)
            return
        audit.record(
            None,
            "exposure.run.done",
            run,
            run.organisation,
            f"audit {run.pk} terminé : niveau {run.exposure_level}, {len(result.findings)} constat(s), "
            f"{len(run.diff['new'])} nouveau(x), {len(run.diff['fixed'])} corrigé(s)",
        )
        transaction.on_commit(lambda: record_evidence(run.pk))


def track_findings(run: ScanRun, result: ScanResult) -> dict:
    """New, persisting and fixed findings. A finding closes only when its host answered this
    run and its port was scanned: a scan failure is not a remediation."""
    now = run.finished_at or timezone.now()
    spec = engine_targets.parse_ports(run.scope.get("ports"))
    ports = set(spec) | set(spec.udp)  # findings carry no transport; UDP ones are IKE rules
    answered = {h.address for h in result.hosts if h.answered}
    seen = {}
    for item in result.findings:
        seen.setdefault(item.fingerprint, item)
    diff = {"new": [], "persisting": [], "fixed": [], "reopened": []}
    existing = {f.fingerprint: f for f in Finding.objects.filter(organisation=run.organisation)}
    for fingerprint, item in seen.items():
        finding = existing.get(fingerprint)
        if finding is None:
            Finding.objects.create(
                organisation=run.organisation,
                fingerprint=fingerprint,
                rule=item.rule,
                severity=item.severity,
                category=item.category,
                host=item.host,
                port=item.port,
                title=item.title,
                description=item.description,
                evidence=item.evidence,
                remediation=item.remediation,
                cves=item.cves,
                kev=item.kev,
                confidence=item.confidence,
                first_run=run,
                last_run=run,
                first_seen=now,
                last_seen=now,
            )
            diff["new"].append(fingerprint)
            continue
        finding.last_run, finding.last_seen = run, now
        finding.evidence, finding.severity, finding.kev = item.evidence, item.severity, item.kev
        if finding.status == FindingStatus.FIXED:
            finding.status, finding.closed_run, finding.fixed_at = FindingStatus.OPEN, None, None
            diff["reopened"].append(fingerprint)
        else:
            diff["persisting"].append(fingerprint)
        finding.save()
    for fingerprint, finding in existing.items():
        if fingerprint in seen or finding.status in (
            FindingStatus.FIXED,
            FindingStatus.FALSE_POSITIVE,
        ):
            continue
        if finding.host in answered and (finding.port is None or finding.port in ports):
            finding.status, finding.closed_run, finding.fixed_at = FindingStatus.FIXED, run, now
            finding.save()
            diff["fixed"].append(fingerprint)
    return diff


def record_evidence(run_id: int) -> None:
    """A finished run becomes dated "exposure_audit" evidence (D1.O2.B) with its JSON report."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from careops.compliance import services as compliance
    from careops.exposure import reports

    run = ScanRun.objects.select_related("organisation").get(pk=run_id)
    if run.evidence_id or run.status != RunStatus.DONE or not run.exposure_level:
        return  # an audit that analysed no host proves nothing
    report = SimpleUploadedFile(
        f"audit-exposition-{run.pk}.json",
        json.dumps(reports.report_data(run), ensure_ascii=False, indent=2, default=str).encode(),
        content_type="application/json",
    )
    local_day = timezone.localtime(run.finished_at).date()
    evidence = compliance.create_evidence(
        None,
        run.organisation,
        "exposure_audit",
        f"Audit d'exposition careops n° {run.pk} du {local_day:%d/%m/%Y}",
        compliance.RevisionInput(
            effective_date=local_day,
            attributes={
                "minimum_level_met": bool(run.minimum_level_met),
                "exposure_level": run.exposure_level,
                "run": run.pk,
            },
            files=[report],
            comment=f"niveau {run.exposure_level} ({rules.level_label(run.exposure_level)})",
        ),
        item_codes=["D1.O2.B", "D1.O2.A"],
        source="exposure",
    )
    ScanRun.objects.filter(pk=run.pk).update(evidence=evidence)


def update_finding(
    user,
    finding: Finding,
    *,
    status: str,
    owner: str = "",
    due_date=None,
    justification: str = "",
    risk_expires_on=None,
) -> Finding:
    """Remediation: owner, due date, status; an accepted risk needs a justification and expiry."""
    if not scope.can(user, "change", finding):
        raise PermissionDenied("Vous ne pouvez pas modifier ce constat.")
    errors: dict[str, list[str]] = {}
    if status not in FindingStatus.values:
        errors["status"] = ["Statut inconnu."]
    if status == FindingStatus.ACCEPTED:
        if len((justification or "").strip()) < 10:
            errors["justification"] = ["Un risque accepté doit être justifié."]
        if not risk_expires_on:
            errors["risk_expires_on"] = ["Un risque accepté doit avoir une date de fin."]
        elif risk_expires_on <= timezone.localdate():
            errors["risk_expires_on"] = ["La fin de l'acceptation doit être dans le futur."]
    if status == FindingStatus.FIXED:
        errors["status"] = ["« Corrigé » est constaté par l'audit suivant, pas déclaré."]
    if errors:
        raise ValidationError(errors)
    before = finding.get_status_display()
    finding.status, finding.owner, finding.due_date = status, owner.strip(), due_date
    finding.justification = justification.strip() if status == FindingStatus.ACCEPTED else ""
    finding.risk_expires_on = risk_expires_on if status == FindingStatus.ACCEPTED else None
    finding.save()
    audit.record(
        user,
        "exposure.finding.update",
        finding,
        finding.organisation,
        f"constat « {finding.title} » ({finding.host}:{finding.port}) : {before} → {finding.get_status_display()}",
    )
    return finding


def history(organisation, limit: int = 12) -> list[dict]:
    """Findings by severity per finished run, oldest first (the chart)."""
    runs = ScanRun.objects.filter(organisation=organisation, status=RunStatus.DONE).order_by(
        "-finished_at"
    )[:limit]
    out = []
    for run in reversed(list(runs)):
        counts = dict.fromkeys(rules.SEVERITIES, 0)
        for item in run.result.get("findings", []):
            counts[item["severity"]] += 1
        out.append({"run": run, "counts": counts, "total": sum(counts.values())})
    widest = max([row["total"] for row in out] + [1])
    for row in out:  # stacked bar segments (200 px for the busiest run)
        x, row["bars"] = 0, []
        for severity in rules.SEVERITIES:
            width = round(200 * row["counts"][severity] / widest)
            if width:
                row["bars"].append(
                    {"severity": severity, "x": x, "width": width, "color": BAR_COLORS[severity]}
                )
            x += width
    return out


BAR_COLORS = {
    "critical": "#ce0500",
    "high": "#b34000",
    "medium": "#716043",
    "low": "#0063cb",
    "info": "#929292",
}
