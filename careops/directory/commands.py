"""``careops ad collect|analyze``: run the Active Directory audit engine without a database."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

from careops.commandkit import BaseCommand, CommandError
from careops.directory.engine import analysis, collect, imports
from careops.directory.engine.dump import DumpError, load_dump, save_dump


def _read_password(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise CommandError(f"Fichier de mot de passe illisible : {path}.") from exc


def _now(value: str | None) -> dt.datetime:
    if not value:
        return dt.datetime.now(dt.UTC)
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"Date invalide pour --now : {value} (AAAA-MM-JJ).") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _waivers(path: str | None) -> list[analysis.Waiver]:
    if not path:
        return []
    import yaml

    try:
        rows = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or []
        return [
            analysis.Waiver(
                point=r["point"],
                justification=r["justification"],
                expires=dt.date.fromisoformat(str(r["expires"])),
                author=r.get("author", ""),
            )
            for r in rows
        ]
    except (OSError, KeyError, TypeError, ValueError, yaml.YAMLError) as exc:
        raise CommandError(f"Fichier de dérogations invalide : {exc}") from exc


class AdCommand(BaseCommand):
    help = "Audit d'annuaire Active Directory : collecte (LDAP) et analyse des points ANSSI."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        c = sub.add_parser("collect", help="collecter un annuaire dans un fichier")
        self._server_args(c, required=True)
        c.add_argument("--out", required=True, help="fichier de collecte (JSON compressé)")
        a = sub.add_parser("analyze", help="analyser une collecte")
        src = a.add_mutually_exclusive_group(required=True)
        src.add_argument("--dump", help="fichier de collecte careops")
        src.add_argument("--oradad", help="dossier de sortie TSV en clair d'ORADAD")
        src.add_argument("--pingcastle", help="rapport XML healthcheck de PingCastle")
        src.add_argument("--server", help="collecter puis analyser (ldaps://HÔTE[:PORT])")
        self._server_args(a, required=False)
        a.add_argument("--now", help="date de référence (AAAA-MM-JJ) ; par défaut aujourd'hui")
        a.add_argument("--waivers", help="fichier YAML de dérogations")
        a.add_argument("--json", action="store_true", help="sortie JSON")

    def _server_args(self, p, required: bool):
        if required:
            p.add_argument(
                "--server", required=True, help="ldaps://HÔTE[:PORT] ou ldap:// (StartTLS)"
            )
        p.add_argument("--user", help="compte de lecture (UPN ou DN)")
        p.add_argument("--password-file", help="fichier contenant le mot de passe")
        p.add_argument("--base", help="DN du domaine (par défaut : celui du serveur)")
        p.add_argument("--ca-file", help="autorité de certification à reconnaître (PEM)")
        p.add_argument("--tls-name", help="nom attendu dans le certificat du serveur")
        p.add_argument(
            "--ntlm", action="store_true", help="authentification NTLM (DOMAINE\\compte)"
        )

    def _target(self, options) -> collect.Target:
        if not options.get("user") or not options.get("password_file"):
            raise CommandError("--user et --password-file sont requis pour interroger un serveur.")
        return collect.Target(
            url=options["server"],
            user=options["user"],
            password=_read_password(options["password_file"]),
            base=options.get("base"),
            ca_file=options.get("ca_file"),
            tls_name=options.get("tls_name"),
            authentication="ntlm" if options.get("ntlm") else "simple",
        )

    def _collect(self, options):
        try:
            return collect.collect(
                self._target(options),
                progress=lambda n: self.stderr.write(f"\r{n} objets collectés", ending=""),
            )
        except collect.CollectError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            self.stderr.write("")

    def handle(self, *args, **options):
        if options["action"] == "collect":
            dump = self._collect(options)
            save_dump(dump, options["out"])
            os.chmod(options["out"], 0o600)
            state = "complète" if dump.complete else "PARTIELLE"
            self.stdout.write(
                f"Collecte {state} de {dump.domain} : {len(dump.objects)} objets, "
                f"{len(dump.descriptors)} descripteurs distincts → {options['out']}"
            )
            return
        now = _now(options.get("now"))
        try:
            if options.get("pingcastle"):
                result = analysis.from_pingcastle(imports.load_pingcastle(options["pingcastle"]))
            else:
                if options.get("dump"):
                    dump = load_dump(options["dump"])
                elif options.get("oradad"):
                    dump = imports.load_oradad(options["oradad"])
                else:
                    dump = self._collect(options)
                result = analysis.analyze(dump, now, waivers=_waivers(options.get("waivers")))
        except DumpError as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            json.dump(analysis.summary(result), self.stdout, ensure_ascii=False, indent=1)
            self.stdout.write("")
            return
        self._print(result)

    def _print(self, result):
        w = self.stdout.write
        status = "" if result.level_complete else " (INCOMPLET : niveau au mieux)"
        w(f"Domaine {result.domain} — niveau ANSSI {result.level}{status}")
        w(f"Collecte du {result.collected_at}, analyse au {result.analysed_at}")
        for level in range(1, 5):
            failing = [p for p in result.points if p.level == level and p.status == "fail"]
            if not failing:
                continue
            w(f"\nNiveau {level} : {len(failing)} point(s) en échec")
            for p in failing:
                mark = " [dérogation]" if p.waiver else ""
                w(f"  {p.id}{mark} — {p.title} ({p.object_count} objet(s))")
                for o in p.objects[:5]:
                    w(f"      · {o.get('name')} {o.get('detail', '')}".rstrip())
                w(f"    → {p.recommendation}")
        skipped = [p.id for p in result.points if p.status == "not_evaluated"]
        if skipped:
            w(f"\nNon évalués ({len(skipped)}) : {', '.join(skipped)}")
        if result.paths:
            w(f"\nChemins de contrôle vers les comptes privilégiés ({len(result.paths)}) :")
            for path in result.paths[:10]:
                chain = " → ".join(
                    [path["source"]] + [f"[{s['rel']}] {s['to']}" for s in path["steps"]]
                )
                w(f"  {chain}")
        if not result.level_complete:
            sys.stderr.write(
                "Attention : collecte partielle ou points non évalués ; le niveau n'est pas définitif.\n"
            )
