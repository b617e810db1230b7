"""The fourteen checks (A1–A14) of each access path, their reasons, the scores and the
prioritised remediation list. Computed sources (exposure scan, directory dump, VPN
configurations, bastion logs) come first; declarations fill the rest, and say so."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from careops.remote_access.engine import bastion as bastion_logs
from careops.remote_access.engine import exposure as exposure_mod
from careops.remote_access.engine import vpn as vpn_mod
from careops.remote_access.engine.accounts import DirectoryView
from careops.remote_access.engine.model import (
    FAIL,
    NA,
    PASS,
    STRONG_FACTORS,
    UNKNOWN,
    AccessPath,
    CheckResult,
    PathResult,
    Remediation,
    Report,
)
from careops.remote_access.engine.rules import CODES, Rules

DIRECT_TECHNOLOGIES = {"ssh", "vendor_tool", "modem_or_4g_router"}
TUNNEL_TECHNOLOGIES = {"ipsec_vpn", "tls_vpn", "bastion_pam", "vdi", "rdp_gateway"}


@dataclass
class Sources:
    """Everything computed that the checks may use (each part optional)."""

    exposure: exposure_mod.ExposureView | None = None
    directory: DirectoryView | None = None
    vpn: list[vpn_mod.VpnConnection] = field(default_factory=list)
    bastion: list[bastion_logs.BastionLog] = field(default_factory=list)
    as_of: dt.date = field(default_factory=dt.date.today)


def _yes(value: bool | None) -> str:
    return {True: "oui", False: "non", None: "non renseigné"}[value]


def _from_bool(code: str, value: bool | None, ok: str, bad: str, missing: str) -> CheckResult:
    if value is None:
        return CheckResult(code, UNKNOWN, missing)
    return CheckResult(code, PASS if value else FAIL, ok if value else bad)


def vpn_for(
    path: AccessPath, connections: list[vpn_mod.VpnConnection]
) -> list[vpn_mod.VpnConnection]:
    """The VPN connections of a path: by name (``vpn_connection``), else by entry address."""
    if path.vpn_connection:
        wanted = path.vpn_connection.lower()
        named = [
            c
            for c in connections
            if wanted in (c.name.lower(), f"{c.source}:{c.name}".lower(), c.source.lower())
        ]
        if named:
            return named
    host = path.host
    if not host:
        return []
    return [c for c in connections if host in [a.lower() for a in c.local_addresses]]


def sessions_for(
    path: AccessPath, logs: list[bastion_logs.BastionLog]
) -> list[bastion_logs.Session]:
    accounts = {a.lower() for a in path.accounts}
    return [s for log in logs for s in log.sessions if s.account.lower() in accounts]


# ---------------------------------------------------------------- the checks


def a1(path: AccessPath, src: Sources) -> CheckResult:
    missing = [
        label
        for label, value in (
            ("responsable métier", path.business_owner),
            ("responsable technique", path.technical_owner),
            ("justification", path.justification),
        )
        if not value.strip()
    ]
    if missing:
        return CheckResult("A1", FAIL, "manque : " + ", ".join(missing))
    return CheckResult("A1", PASS, "inventorié avec ses responsables et sa justification")


def a2(path: AccessPath, src: Sources) -> CheckResult:
    view = src.exposure
    if view is not None and path.host and view.covers(path.host):
        failing = [
            f for f in view.findings_for(path.host) if f.get("rule") in exposure_mod.FAILING_RULES
        ]
        if failing:
            text = "; ".join(
                f"{f.get('rule')} {f.get('title')} ({f.get('port') or '—'})"
                + (" — KEV" if f.get("kev") else "")
                for f in failing
            )
            return CheckResult("A2", FAIL, f"scan d'exposition : {text}", "exposure")
        return CheckResult(
            "A2", PASS, f"scan d'exposition : aucun service à risque sur {path.host}", "exposure"
        )
    if path.internet_exposed is None:
        reason = "exposition non renseignée"
        if view is not None and path.host:
            reason += f" ({path.host} absent du scan d'exposition)"
        return CheckResult("A2", UNKNOWN, reason)
    if path.internet_exposed and path.technology in DIRECT_TECHNOLOGIES:
        return CheckResult(
            "A2", FAIL, f"déclaré exposé sur internet en accès direct ({path.technology})"
        )
    return CheckResult(
        "A2",
        PASS,
        "déclaré non exposé" if not path.internet_exposed else "exposé via une passerelle déclarée",
    )


def a3(path: AccessPath, src: Sources) -> CheckResult:
    declared = STRONG_FACTORS & set(path.auth_factors)
    connections = vpn_for(path, src.vpn)
    weak = [c for c in connections if not c.mfa or c.psk_only]
    if weak:
        names = ", ".join(f"{c.source}:{c.name}" for c in weak)
        detail = (
            "clé pré-partagée seule" if any(c.psk_only for c in weak) else "pas de second facteur"
        )
        if declared and path.through_bastion:
            return CheckResult(
                "A3",
                PASS,
                f"VPN {names} : {detail}, mais le bastion impose {', '.join(sorted(declared))}",
                "vpn",
            )
        return CheckResult("A3", FAIL, f"configuration VPN {names} : {detail}", "vpn")
    if connections:
        return CheckResult(
            "A3",
            PASS,
            "configuration VPN : second facteur exigé ("
            + ", ".join(c.name for c in connections)
            + ")",
            "vpn",
        )
    if not path.auth_factors:
        return CheckResult("A3", UNKNOWN, "facteurs d'authentification non renseignés")
    if declared:
        return CheckResult("A3", PASS, "déclaré : " + ", ".join(sorted(declared)))
    return CheckResult(
        "A3", FAIL, "aucun second facteur déclaré (" + ", ".join(path.auth_factors) + ")"
    )


def a4(path: AccessPath, src: Sources) -> CheckResult:
    sessions = sessions_for(path, src.bastion)
    if sessions:
        kinds = sorted({s.source for s in sessions})
        return CheckResult(
            "A4",
            PASS,
            f"{len(sessions)} session(s) passées par le bastion ({', '.join(kinds)})",
            "bastion",
        )
    if path.technology == "bastion_pam":
        return CheckResult("A4", PASS, "technologie déclarée : bastion / PAM")
    return _from_bool(
        "A4",
        path.through_bastion,
        "déclaré : passe par un bastion",
        "ne passe par aucun bastion ni PAM",
        "passage par un bastion non renseigné",
    )


def a5(path: AccessPath, src: Sources, rules: Rules) -> CheckResult:
    generic = []
    if src.directory is not None:
        generic = [
            a
            for a in path.accounts
            if src.directory.facts(a).found and src.directory.facts(a).generic
        ]
    blocking_rule = rules.checks["A5"].blocking
    if path.account_model in ("shared", "generic_vendor") or generic:
        blocking = blocking_rule is True or (
            blocking_rule == "shared_permanent" and path.activation in ("permanent", "")
        )
        if generic:
            return CheckResult(
                "A5",
                FAIL,
                "annuaire : compte(s) au nom générique " + ", ".join(generic),
                "directory",
                blocking,
            )
        return CheckResult(
            "A5", FAIL, f"comptes déclarés « {path.account_model} »", blocking=blocking
        )
    if path.account_model == "nominative":
        return CheckResult("A5", PASS, "comptes nominatifs déclarés")
    return CheckResult("A5", UNKNOWN, "modèle de comptes non renseigné")


def a6(path: AccessPath, src: Sources, rules: Rules) -> CheckResult:
    if src.directory is not None:
        permanent = [
            a
            for a in path.accounts
            if (f := src.directory.facts(a)).found and f.enabled and f.never_expires is True
        ]
        if permanent:
            return CheckResult(
                "A6",
                FAIL,
                "annuaire : compte(s) actif(s) sans date d'expiration : " + ", ".join(permanent),
                "directory",
            )
    windows = bastion_logs.parse_windows(path.allowed_windows)
    sessions = sessions_for(path, src.bastion)
    if sessions and windows:
        outside = [s for s in sessions if bastion_logs.outside_windows(s, windows)]
        if outside:
            first = outside[0]
            return CheckResult(
                "A6",
                FAIL,
                f"bastion : {len(outside)} session(s) hors des plages autorisées "
                f"(ex. {first.account} le {first.started_at[:16].replace('T', ' ')})",
                "bastion",
            )
    if path.activation in ("on_demand", "time_bound"):
        reason = (
            "activation déclarée : "
            + {"on_demand": "à la demande", "time_bound": "limitée dans le temps"}[path.activation]
        )
        if sessions and windows:
            return CheckResult(
                "A6",
                PASS,
                reason + f" ; {len(sessions)} session(s) toutes dans les plages",
                "bastion",
            )
        return CheckResult("A6", PASS, reason)
    if path.activation == "permanent":
        return CheckResult("A6", FAIL, "accès permanent")
    return CheckResult("A6", UNKNOWN, "mode d'activation non renseigné")


def a7(path: AccessPath, src: Sources) -> CheckResult:
    sessions = [s for s in sessions_for(path, src.bastion) if s.recorded is not None]
    if sessions:
        missing = [s for s in sessions if not s.recorded]
        if missing:
            return CheckResult(
                "A7",
                FAIL,
                f"bastion : {len(missing)} session(s) sur {len(sessions)} sans enregistrement",
                "bastion",
            )
        if path.recording_retention_days is None:
            return CheckResult(
                "A7",
                FAIL,
                f"bastion : {len(sessions)} session(s) enregistrées, mais durée de conservation non définie",
                "bastion",
            )
        return CheckResult(
            "A7",
            PASS,
            f"bastion : {len(sessions)} session(s) enregistrées, conservation {path.recording_retention_days} j",
            "bastion",
        )
    if path.session_recording is None:
        return CheckResult("A7", UNKNOWN, "enregistrement des sessions non renseigné")
    if not path.session_recording:
        return CheckResult("A7", FAIL, "sessions non enregistrées")
    if path.recording_retention_days is None:
        return CheckResult("A7", FAIL, "sessions enregistrées, durée de conservation non définie")
    return CheckResult(
        "A7", PASS, f"sessions enregistrées, conservation {path.recording_retention_days} j"
    )


def a8(path: AccessPath, src: Sources, rules: Rules) -> CheckResult:
    if path.logs_to_siem is None:
        return CheckResult("A8", UNKNOWN, "centralisation des journaux non renseignée")
    if not path.logs_to_siem:
        return CheckResult("A8", FAIL, "journaux non centralisés")
    minimum = rules.log_retention_min_days
    if path.log_retention_days is None or path.log_retention_days < minimum:
        return CheckResult(
            "A8", FAIL, f"conservation des journaux inférieure à {minimum} j ou non renseignée"
        )
    sessions = sessions_for(path, src.bastion)
    suffix = (
        f" ; {len(sessions)} session(s) tracées dans les journaux du bastion" if sessions else ""
    )
    return CheckResult(
        "A8",
        PASS,
        f"journaux centralisés, conservation {path.log_retention_days} j{suffix}",
        "bastion" if sessions else "declaration",
    )


def a9(path: AccessPath, src: Sources) -> CheckResult:
    if src.exposure is not None and path.host:
        tools = [
            s
            for s in src.exposure.services_by_host.get(src.exposure.address(path.host), [])
            if s.get("service") in ("teamviewer", "anydesk", "screenconnect", "vnc")
            or s.get("port") in exposure_mod.VENDOR_TOOL_PORTS
        ]
        if tools:
            return CheckResult(
                "A9",
                FAIL,
                "scan : outil de prise de main exposé ("
                + ", ".join(f"{s['service']}/{s['port']}" for s in tools)
                + ")",
                "exposure",
            )
    if path.technology in ("vendor_tool", "modem_or_4g_router"):
        return CheckResult(
            "A9", FAIL, f"prise de main par un outil non maîtrisé ({path.technology})"
        )
    return _from_bool(
        "A9",
        None if path.unmanaged_tools is None else not path.unmanaged_tools,
        "aucun outil de prise de main non maîtrisé déclaré",
        "outil de prise de main non maîtrisé déclaré",
        "présence d'outils de prise de main non renseignée",
    )


def a10(path: AccessPath, src: Sources) -> CheckResult:
    if src.directory is not None and path.accounts:
        present = [a for a in path.accounts if src.directory.facts(a).found]
        if present:
            return CheckResult(
                "A10",
                FAIL,
                f"annuaire : compte(s) {', '.join(present)} présent(s) dans l'AD de production {src.directory.domain}",
                "directory",
            )
        if path.directory in ("dedicated", "local"):
            return CheckResult(
                "A10",
                PASS,
                f"annuaire : aucun compte du chemin dans {src.directory.domain}",
                "directory",
            )
    if path.directory == "prod_ad":
        return CheckResult("A10", FAIL, "comptes déclarés dans l'AD de production")
    if path.directory in ("dedicated", "local"):
        return CheckResult("A10", PASS, "comptes déclarés hors de l'AD de production")
    return CheckResult("A10", UNKNOWN, "annuaire non renseigné")


def a11(path: AccessPath, src: Sources) -> CheckResult:
    problems = []
    source = "declaration"
    connections = vpn_for(path, src.vpn)
    for c in connections:
        source = "vpn"
        label = f"{c.source}:{c.name}"
        if 1 in c.ike_versions:
            problems.append(f"{label} accepte IKEv1")
        if c.aggressive:
            problems.append(f"{label} en mode agressif")
        if c.weak:
            problems.append(f"{label} propose {', '.join(c.weak)}")
        wider = vpn_mod.wider_routes(c.routes, path.target_networks)
        if wider:
            problems.append(f"{label} donne accès à {', '.join(wider)}, plus large que les cibles")
    if src.exposure is not None and path.host and path.technology == "ipsec_vpn":
        for f in src.exposure.findings_for(path.host):
            if f.get("rule") in ("EXP-IKE-002", "EXP-IKE-003"):
                source = "exposure"
                problems.append(f"scan : {f.get('title')}")
    if path.technology in ("modem_or_4g_router", "vendor_tool"):
        problems.append("pas de tunnel maîtrisé par l'établissement")
    if path.is_vendor and path.internet_exposed and not path.source_ip_restriction.strip():
        problems.append("pas de filtrage des adresses sources")
    if problems:
        return CheckResult("A11", FAIL, "; ".join(dict.fromkeys(problems)), source)
    if connections:
        return CheckResult(
            "A11",
            PASS,
            "configuration VPN : IKEv2/TLS, algorithmes robustes, routes limitées aux cibles",
            "vpn",
        )
    if path.technology in TUNNEL_TECHNOLOGIES:
        return CheckResult("A11", PASS, f"tunnel déclaré ({path.technology})")
    return CheckResult("A11", UNKNOWN, "tunnel et filtrage non démontrés")


def a12(path: AccessPath, src: Sources) -> CheckResult:
    values = (path.contract_security_clauses, path.workstation_requirements)
    if False in values:
        missing = [
            n
            for n, v in zip(("clauses de sécurité", "exigences sur le poste"), values, strict=True)
            if v is False
        ]
        return CheckResult("A12", FAIL, "manque : " + ", ".join(missing))
    if None in values:
        return CheckResult("A12", UNKNOWN, "clauses et exigences sur le poste non attestées")
    return CheckResult("A12", PASS, "clauses de sécurité et exigences sur le poste attestées")


def a13(path: AccessPath, src: Sources, rules: Rules) -> CheckResult:
    problems = []
    source = "declaration"
    if src.directory is not None:
        stale = [a for a in path.accounts if (f := src.directory.facts(a)).found and f.stale]
        if stale:
            source = "directory"
            problems.append(
                f"annuaire : compte(s) actif(s) inutilisé(s) depuis plus de {rules.unused_account_days} j : "
                + ", ".join(stale)
            )
    if src.bastion and path.accounts:
        horizon = dt.datetime.combine(src.as_of, dt.time()) - dt.timedelta(
            days=rules.unused_account_days
        )
        used = {s.account.lower() for s in sessions_for(path, src.bastion) if s.start >= horizon}
        unused = [a for a in path.accounts if a.lower() not in used]
        starts = [s.start for log in src.bastion for s in log.sessions]
        covered = bool(starts) and min(starts) <= horizon  # logs reach back far enough
        if unused and covered:
            source = "bastion"
            problems.append(
                f"bastion : aucune session depuis {rules.unused_account_days} j pour "
                + ", ".join(unused)
            )
    if path.last_access_review:
        age = (src.as_of - dt.date.fromisoformat(path.last_access_review)).days
        if age > rules.review_max_days:
            problems.append(f"dernière revue des accès il y a {age} j")
    else:
        problems.append("aucune revue des accès datée")
    if problems:
        return CheckResult("A13", FAIL, "; ".join(problems), source)
    return CheckResult(
        "A13", PASS, f"revue des accès du {path.last_access_review}, comptes utilisés", source
    )


def a14(path: AccessPath, src: Sources) -> CheckResult:
    problems = []
    if path.managed_devices_only is False:
        problems.append("postes non maîtrisés admis")
    if path.admin_rights_from_remote:
        problems.append("droits d'administration depuis le télétravail")
    if not STRONG_FACTORS & set(path.auth_factors):
        problems.append("pas de double authentification déclarée")
    if problems:
        return CheckResult("A14", FAIL, "; ".join(problems))
    if path.managed_devices_only is None or path.admin_rights_from_remote is None:
        return CheckResult("A14", UNKNOWN, "postes et droits non renseignés")
    return CheckResult(
        "A14", PASS, "postes maîtrisés, double authentification, sans droits d'administration"
    )


def evaluate_path(path: AccessPath, src: Sources, rules: Rules) -> PathResult:
    """All applicable checks of one path, then its score."""
    functions = {
        "A1": lambda: a1(path, src),
        "A2": lambda: a2(path, src),
        "A3": lambda: a3(path, src),
        "A4": lambda: a4(path, src),
        "A5": lambda: a5(path, src, rules),
        "A6": lambda: a6(path, src, rules),
        "A7": lambda: a7(path, src),
        "A8": lambda: a8(path, src, rules),
        "A9": lambda: a9(path, src),
        "A10": lambda: a10(path, src),
        "A11": lambda: a11(path, src),
        "A12": lambda: a12(path, src),
        "A13": lambda: a13(path, src, rules),
        "A14": lambda: a14(path, src),
    }
    result = PathResult(path.ref, path.name, path.population, path.priority)
    for code in CODES:
        rule = rules.checks[code]
        if not rule.applies(path.population):
            result.checks.append(CheckResult(code, NA, "non applicable à cette population"))
            continue
        check = functions[code]()
        if check.status == FAIL and rule.blocking is True:
            check.blocking = True
        result.checks.append(check)
    score_path(result, rules)
    return result


def score_path(result: PathResult, rules: Rules) -> None:
    """score = 100 × Σ passed weights / Σ applicable weights; a blocking failure caps it."""
    applicable = [c for c in result.checks if c.status != NA]
    counted = [c for c in applicable if c.status != UNKNOWN or rules.unknown_counts_as_failed]
    total = sum(rules.checks[c.code].weight for c in counted)
    passed = sum(rules.checks[c.code].weight for c in counted if c.status == PASS)
    if not total:
        result.score, result.band = None, ""
        return
    score = round(100 * passed / total)
    result.blocked = any(c.blocking and c.status == FAIL for c in applicable)
    if result.blocked:
        score = min(score, rules.blocking_cap)
    result.score = score
    result.band = rules.bands[-1]["id"] if result.blocked else rules.band(score)


def evaluate(paths: list[AccessPath], src: Sources, rules: Rules) -> Report:
    """Checks of every path, the undeclared paths, the establishment score and the
    prioritised remediation list."""
    report = Report(rules_version=rules.version)
    report.paths = [evaluate_path(p, src, rules) for p in paths]
    if src.exposure is not None:
        report.undeclared = exposure_mod.undeclared(src.exposure, paths)
    weights = [
        (rules.priority_weights.get(r.priority, 1.0), r.score)
        for r in report.paths
        if r.score is not None
    ]
    if weights:
        report.score = round(sum(w * s for w, s in weights) / sum(w for w, _ in weights))
        report.band = rules.band(report.score)
    for result in report.paths:
        weight_p = rules.priority_weights.get(result.priority, 1.0)
        for check in result.checks:
            if check.status in (FAIL, UNKNOWN):
                weight = rules.checks[check.code].weight
                key = (1000 if check.blocking else 0) + weight * weight_p * (
                    1 if check.status == FAIL else 0.5
                )
                report.remediation.append(
                    Remediation(
                        result.ref,
                        result.name,
                        check.code,
                        rules.checks[check.code].title,
                        check.reason,
                        check.blocking,
                        weight,
                        result.priority,
                        key,
                    )
                )
    report.remediation.sort(key=lambda r: (-r.rank_key, r.ref, int(r.code[1:])))
    return report
