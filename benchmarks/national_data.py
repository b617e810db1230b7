"""The national data set (issue 18, part 6): 3 000 establishments, ~135 GHT, 18 ARS, their D2
evaluations and item statuses, candidacies and frozen declarations with instruction verdicts
(benchmarks/dashboards.py's generator), 200 000 exposure findings over monthly audits, AD audits,
and the users: one RSSI per establishment and GHT, two instructors per ARS, one at the ANS.

Bulk inserts only, seeded (the same seed gives the same data). A benchmark script, not a
command: nothing in it is meant for a production database.

Usage (Django configured by the caller, database migrated):
    from national_data import generate
    summary = generate(establishments=3000, findings=200_000)
"""

from __future__ import annotations

import datetime as dt
import random

from dashboards import generate as generate_declarations  # benchmarks/, beside this script

PASSWORD = "careops-national-2026"  # noqa: S105 — every generated account, benchmark data only


def generate(establishments: int = 3000, findings: int = 200_000, seed: int = 18) -> dict:
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from careops.catalogue.bridge import domain_of
    from careops.catalogue.models import ReferentialVersion
    from careops.compliance.models import Assessment, ItemStatus
    from careops.declarations.models import Candidacy
    from careops.directory.models import Audit, Domain
    from careops.exposure.models import Finding, ScanRun, Severity
    from careops.tenancy.models import Organisation, RoleAssignment

    rng = random.Random(seed)
    summary = generate_declarations(establishments, seed=seed)
    summary.pop("users")
    now = dt.datetime(2026, 6, 1, 8, tzinfo=dt.UTC)
    version = ReferentialVersion.objects.get(domain="D2", is_current=True)
    items = [i for i in domain_of(version).items if i.kind != "group"]

    # evaluations: one D2 assessment per candidacy, a status per item
    candidacies = list(Candidacy.objects.values_list("candidate_id", flat=True))
    assessments = Assessment.objects.bulk_create(
        [
            Assessment(candidate_id=c, referential_version=version, evaluated_at=now)
            for c in candidacies
        ],
        batch_size=1000,
    )
    statuses = ["met", "met", "met", "partial", "not_met", "missing_evidence"]
    ItemStatus.objects.bulk_create(
        [
            ItemStatus(assessment=a, item_code=i.id, status=rng.choice(statuses), reasons=[])
            for a in assessments
            for i in items
        ],
        batch_size=5000,
    )

    # exposure: monthly audits and their findings, spread over the establishments
    structures = list(
        Organisation.objects.filter(kind__in=["ej", "esms", "ght"]).values_list("pk", flat=True)
    )
    runs = ScanRun.objects.bulk_create(
        [
            ScanRun(
                organisation_id=org,
                status="done",
                scope={},
                started_at=now - dt.timedelta(days=30 * month),
                finished_at=now - dt.timedelta(days=30 * month),
                exposure_level=rng.choice(["A", "B", "C"]),
            )
            for org in structures
            for month in range(3)
        ],
        batch_size=2000,
    )
    severities = [s.value for s in Severity]
    Finding.objects.bulk_create(
        (
            Finding(
                organisation_id=run.organisation_id,
                fingerprint=f"{run.pk}-{n}",
                rule=f"EXP-{rng.randrange(1, 40):03d}",
                severity=rng.choice(severities),
                host=f"198.51.{n % 250}.{run.pk % 250}",
                title="Service exposé",
                first_run=run,
                last_run=run,
                first_seen=run.finished_at,
                last_seen=run.finished_at,
            )
            for n, run in ((n, runs[n % len(runs)]) for n in range(findings))
        ),
        batch_size=5000,
    )

    # Active Directory: a domain and three audits for a third of the structures
    domains = Domain.objects.bulk_create(
        [Domain(organisation_id=org, name=f"ad{org}.sante.test") for org in structures[::3]],
        batch_size=2000,
    )
    audits = Audit.objects.bulk_create(
        [
            Audit(
                domain=d,
                source="oradad",
                status="done",
                finished_at=now - dt.timedelta(days=90 * k),
                level=rng.randrange(1, 6),
            )
            for d in domains
            for k in range(3)
        ],
        batch_size=2000,
    )

    # users: an RSSI per establishment and GHT, two instructors per ARS, one ANS instructor
    User = get_user_model()
    hashed = make_password(PASSWORD)  # hashed once: 3 000 hashes would take minutes
    orgs = list(Organisation.objects.filter(kind__in=["ej", "esms", "ght", "ars", "ans"]))
    accounts, roles = [], []
    for org in orgs:
        if org.kind in ("ej", "esms", "ght"):
            names = [(f"rssi.{org.pk}", "ght_rssi" if org.kind == "ght" else "es_rssi")]
        elif org.kind == "ars":
            names = [(f"ars.{org.region_code}.{k}", "ars_instructor") for k in (1, 2)]
        else:
            names = [("ans.national", "ans_instructor")]
        for username, role in names:
            accounts.append(User(username=username, password=hashed, email=f"{username}@x.test"))
            roles.append((username, org, role))
    User.objects.bulk_create(accounts, batch_size=2000)
    by_name = dict(User.objects.values_list("username", "pk"))
    RoleAssignment.objects.bulk_create(
        [RoleAssignment(user_id=by_name[u], organisation=org, role=r) for u, org, r in roles],
        batch_size=2000,
    )
    for user in User.objects.filter(username__startswith="ars.") | User.objects.filter(
        username="ans.national"
    ):
        TOTP.activate(user, generate_totp_secret())  # instructors must have their second factor
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    summary.update(
        assessments=len(assessments),
        item_statuses=len(assessments) * len(items),
        scan_runs=len(runs),
        findings=findings,
        ad_domains=len(domains),
        ad_audits=len(audits),
        users=len(accounts),
    )
    return summary
