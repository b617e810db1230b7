"""The rule catalogue (rules.yaml) applied to scanned hosts: findings and the exposure level."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

from careops.exposure.engine.results import Finding, HostResult, Service

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present

RULES_FILE = Path(__file__).with_name("rules.yaml")
SEVERITIES = ["critical", "high", "medium", "low", "info"]


@functools.cache
def catalogue(path: str | None = None) -> dict[str, Any]:
    """The rule catalogue (rules, levels, minimum level)."""
    with open(path or RULES_FILE, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=SAFE_LOADER)  # noqa: S506 — a safe loader


def _lower(severity: str) -> str:
    index = SEVERITIES.index(severity)
    return SEVERITIES[min(index + 1, len(SEVERITIES) - 1)]


def _cvss_severity(score: float | None) -> str:
    if score is None:
        return "medium"
    if score >= 9:
        return "critical"
    if score >= 7:
        return "high"
    if score >= 4:
        return "medium"
    return "low"


def _what(service: Service) -> str:
    text = service.product or service.service
    if service.version:
        text += f" {service.version}"
    return text


def _check(rule: dict, service: Service) -> str | None:
    """Return the evidence text if the rule's check holds on this service."""
    check = rule["check"]
    tls, http = service.tls, service.http
    if check == "service":
        name = service.service
        if name == "http" and service.details.get("elasticsearch"):
            name = "elasticsearch"
        if name in rule["services"]:
            return f"{_what(service)} répond sur le port {service.port}/{service.transport}"
    elif check == "no_auth" and service.details.get("auth_required") is False:
        return f"{_what(service)} a répondu sans authentification ({service.banner})"
    elif check == "dicom_any_aet" and service.details.get("accepts_any_aet"):
        return (
            f"association DICOM acceptée avec le titre appelé arbitraire "
            f"« {service.details.get('called_aet')} », C-ECHO statut "
            f"{service.details.get('echo_status')}"
        )
    elif check == "ike_endpoint" and service.transport == "udp" and service.service == "ike":
        ike = service.details.get("ike", {})
        versions = "/".join(f"IKEv{v}" for v in ike.get("versions", [])) or "IKE"
        vendors = ", ".join(v["name"] for v in ike.get("vendor_ids", []) if v.get("name"))
        return (
            f"{versions} répond sur le port {service.port}/udp"
            + (f" ({service.product})" if service.product else "")
            + (f" ; identifiants fournisseur : {vendors}" if vendors else "")
        )
    elif check == "ike_v1_accepted" and service.service == "ike":
        ike = service.details.get("ike", {})
        if ike.get("ikev1_accepted"):
            also = "IKEv2 aussi accepté" if 2 in ike.get("versions", []) else "aucune réponse IKEv2"
            return f"proposition IKEv1 (mode principal) acceptée sur {service.port}/udp ; {also}"
    elif check == "ike_aggressive_psk" and service.service == "ike":
        ike = service.details.get("ike", {})
        if ike.get("aggressive_psk"):
            disclosed = ike.get("responder_id")
            return (
                f"IKEv1 mode agressif avec clé pré-partagée accepté sur {service.port}/udp : la "
                "passerelle a renvoyé l'empreinte HASH_R"
                + (f" et son identité « {disclosed} »" if disclosed else "")
            )
    elif check == "admin_page" and http and (http.admin_page or http.login_page):
        return f"{http.url} : « {http.title or 'sans titre'} » (HTTP {http.status})"
    elif check == "cleartext_login" and http and http.login_page and not tls:
        return f"{http.url} contient un champ mot de passe servi sans chiffrement"
    elif check == "missing_hsts" and tls and http and 200 <= http.status < 300 and not http.hsts:
        return f"{http.url} répond {http.status} sans Strict-Transport-Security"
    elif check == "missing_headers" and http and http.missing_headers:
        return f"{http.url} : absents {', '.join(http.missing_headers)}"
    elif check == "old_tls" and tls:
        if any(p in ("TLSv1.0", "TLSv1.1") for p in tls.protocols):
            return f"protocoles acceptés : {', '.join(tls.protocols)}"
    elif check == "ssl_protocols" and tls:
        if any(p in ("SSLv2", "SSLv3") for p in tls.protocols):
            return f"protocoles acceptés : {', '.join(tls.protocols)}"
    elif check == "weak_suites" and tls and tls.weak_suites:
        where = [p for p, names in tls.accepted_suites.items() if set(names) & set(tls.weak_suites)]
        return f"suites faibles acceptées : {', '.join(tls.weak_suites)}" + (
            f" ({', '.join(where)})" if where else ""
        )
    elif check == "heartbleed" and tls and tls.heartbleed:
        return "réponse heartbeat contenant de la mémoire du serveur (test sslyze)"
    elif check == "robot" and tls and tls.robot.startswith("VULNERABLE"):
        kind = "fort" if tls.robot == "VULNERABLE_STRONG_ORACLE" else "faible"
        return f"oracle {kind} sur l'échange de clé RSA (test sslyze : {tls.robot})"
    elif check == "ccs_injection" and tls and tls.ccs_injection:
        return "ChangeCipherSpec prématuré accepté (test sslyze)"
    elif check == "insecure_renegotiation" and tls and tls.insecure_renegotiation:
        return "extension de renégociation sécurisée (RFC 5746) absente"
    elif check == "tls_compression" and tls and tls.compression:
        return "compression DEFLATE acceptée au niveau TLS"
    elif check == "cert_expired" and tls and tls.expired:
        return (
            f"certificat « {tls.subject} » valide du {tls.not_before[:10]} au {tls.not_after[:10]}"
        )
    elif check == "cert_self_signed" and tls and tls.self_signed:
        return f"certificat « {tls.subject} » auto-signé"
    elif check == "cert_self_signed" and tls and tls.trusted is False:
        return (
            f"certificat « {tls.subject} » émis par « {tls.issuer} » : la chaîne servie "
            f"({tls.chain_length} certificat(s)) ne mène à aucune autorité reconnue"
        )
    elif check == "cert_hostname" and tls and tls.hostname_matches is False:
        return f"noms du certificat : {', '.join(tls.sans) or tls.subject}"
    elif (
        check == "cert_expiring"
        and tls
        and not tls.expired
        and tls.days_left is not None
        and tls.days_left < rule.get("days", 30)
    ):
        return f"expire le {tls.not_after[:10]} (dans {tls.days_left} jours)"
    return None


def evaluate(hosts: list[HostResult], vulndb=None, rules_path: str | None = None) -> list[Finding]:
    """Apply every rule to every service; add CVE and KEV findings when a database is given."""
    data = catalogue(rules_path)
    findings: list[Finding] = []
    for host in hosts:
        once: set[str] = set()  # rules marked once_per_host already raised on this host
        for service in host.services:
            for rule_id, rule in data["rules"].items():
                if rule["check"] in ("edge_device", "vulnerable_version") or rule_id in once:
                    continue
                evidence = _check(rule, service)
                if evidence:
                    findings.append(_finding(rule_id, rule, host, service, evidence))
                    if rule.get("once_per_host"):
                        once.add(rule_id)
            if vulndb is not None:
                findings.extend(_vulnerabilities(data["rules"], host, service, vulndb))
    findings.sort(
        key=lambda f: (SEVERITIES.index(f.severity), not f.kev, f.host, f.port or 0, f.rule)
    )
    return findings


def _finding(rule_id, rule, host, service, evidence, **extra) -> Finding:
    return Finding(
        rule=rule_id,
        severity=extra.pop("severity", rule["severity"]),
        host=host.address,
        port=service.port,
        title=extra.pop("title", rule["title"]),
        evidence=evidence,
        remediation=rule["remediation"],
        description=rule.get("description", ""),
        category=rule.get("category", ""),
        **extra,
    )


def _vulnerabilities(rules: dict, host: HostResult, service: Service, vulndb) -> list[Finding]:
    out = []
    edge = service.http.edge_device if service.http else ""
    edge = edge or service.details.get("edge_device", "")
    if edge and "EXP-EDGE-001" in rules:
        entries = vulndb.family(edge)
        rule = rules["EXP-EDGE-001"]
        listed = ", ".join(m.cve for m in entries[:10]) + (" …" if len(entries) > 10 else "")
        out.append(
            _finding(
                "EXP-EDGE-001",
                rule,
                host,
                service,
                f"famille « {edge} » reconnue sur la page d'accueil ; {len(entries)} entrée(s) KEV : {listed}",
                cves=[m.cve for m in entries],
                kev=bool(entries),
                confidence="family",
            )
        )
    if service.cpe and service.version and "EXP-VULN-001" in rules:
        rule = rules["EXP-VULN-001"]
        matches = vulndb.match(service.cpe, "", service.details.get("distribution", ""))
        for match in matches:
            severity = "critical" if match.kev else _cvss_severity(match.cvss)
            confidence = match.confidence
            if confidence == "potential" and not match.kev:
                severity = _lower(severity)
            note = (
                " (potentielle : version de distribution, correctif peut-être rétroporté)"
                if confidence == "potential"
                else ""
            )
            kev_text = (
                f" ; exploitée activement (KEV, échéance {match.kev_due})" if match.kev else ""
            )
            out.append(
                _finding(
                    "EXP-VULN-001",
                    rule,
                    host,
                    service,
                    f"{_what(service)} ({service.cpe}) : {match.cve}, CVSS {match.cvss or '?'}{kev_text}{note}",
                    severity=severity,
                    title=f"{rule['title']} : {match.cve}",
                    cves=[match.cve],
                    kev=match.kev,
                    confidence=confidence,
                )
            )
    return out


def exposure_level(findings: list[Finding], rules_path: str | None = None) -> tuple[str, bool]:
    """The level of a run (first level whose limits hold) and whether it meets the minimum."""
    data = catalogue(rules_path)
    counts = {s: 0 for s in SEVERITIES}
    for finding in findings:
        counts[finding.severity] += 1
    levels = data["levels"]
    chosen = levels[-1]["id"]
    for level in levels:
        if all(counts.get(sev, 0) <= limit for sev, limit in (level.get("max") or {}).items()):
            chosen = level["id"]
            break
    order = [level["id"] for level in levels]
    return chosen, order.index(chosen) <= order.index(data["minimum_level"])


def analysed(hosts: list) -> list:
    """The hosts a run actually probed (not those no probe could reach from the scanner)."""
    return [h for h in hosts if h.coverage != "unreachable"]


def result_level(hosts: list, findings: list[Finding], rules_path: str | None = None):
    """``exposure_level`` of a run, or ("", False) when no host was analysed: an audit that
    scanned nothing has no level and proves nothing."""
    if not analysed(hosts):
        return "", False
    return exposure_level(findings, rules_path)


NO_HOST_MESSAGE = (
    "Aucun hôte analysé : pas de niveau d'exposition, cet audit ne vaut pas preuve "
    "(cibles refusées, hors périmètre ou sans adresse)."
)


def level_label(level_id: str, rules_path: str | None = None) -> str:
    """The French label of a level."""
    for level in catalogue(rules_path)["levels"]:
        if level["id"] == level_id:
            return level["label"]
    return level_id
