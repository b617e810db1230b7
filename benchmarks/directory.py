"""Directory audit benchmarks (issue 4).

1. Collection: careops' ldap3 collection of a 20 000-user Samba AD DC (with security
   descriptors) against a raw paged ``ldapsearch`` of the same partitions and attributes, in the
   same run. Target: ≤ 1.3 × ldapsearch.
2. Analysis: a generated 100 000-user, 10 000-group directory with realistic ACLs (inherited
   delegations per OU, helpdesk rights, a few dangerous ACEs). Target: < 20 s, < 2 GiB peak.

Usage (root, Samba packages installed, nothing listening on 127.0.0.1:636):
    python benchmarks/directory.py [--users 20000] [--analysis-users 100000] [--skip-collect]
Writes a summary to stdout as JSON; --write updates benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careops.settings")

from careops.directory.engine import collect, sd  # noqa: E402
from careops.directory.engine.dump import Dump, save_dump  # noqa: E402

NOW = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)


RUNS = 5  # alternated measurements of each collection tool; the best of each is kept


from results import replace_section  # noqa: E402 (benchmarks/results.py, beside this script)


def bench_collect(users: int, keep: str | None = None) -> dict:
    from tests.directory import samba_lab

    workdir = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="careops-bench-ad-"))
    t0 = time.perf_counter()
    if keep and (workdir / "dc" / "etc" / "smb.conf").exists():
        lab = samba_lab.start(workdir / "dc")  # reuse a lab seeded by an earlier run
    else:
        lab = samba_lab.provision(workdir / "dc", users=users)
    seeded = time.perf_counter() - t0
    try:
        target = collect.Target(
            lab.url,
            "Administrator@care.test",
            samba_lab.ADMIN_PASSWORD,
            ca_file=lab.ca_file,
            tls_name="DC1.care.test",
        )
        # Warm-up (caches on the DC side), then timed runs, alternating the two clients.
        collect.collect(target)
        careops_times, ldapsearch_times = [], []
        dump = None
        for _ in range(RUNS):
            start = time.perf_counter()
            dump = collect.collect(target)
            careops_times.append(time.perf_counter() - start)
            ldapsearch_times.append(_ldapsearch(lab, dump))
        out = Path(tempfile.mkdtemp(prefix="careops-bench-dump-")) / "dump.json.gz"
        save_dump(dump, out)
        size = out.stat().st_size
        subprocess.run(["rm", "-rf", str(out.parent)], check=False)
        return {
            "users": users,
            "objects": len(dump.objects),
            "distinct_descriptors": len(dump.descriptors),
            "seed_s": round(seeded, 1),
            "careops_s": round(min(careops_times), 2),
            "ldapsearch_s": round(min(ldapsearch_times), 2),
            "ratio": round(min(careops_times) / min(ldapsearch_times), 2),
            "dump_mib": round(size / 2**20, 1),
        }
    finally:
        lab.stop()
        if not keep:
            subprocess.run(["rm", "-rf", str(workdir)], check=False)


def _ldapsearch(lab, dump: Dump) -> float:
    env = dict(os.environ, LDAPTLS_CACERT=lab.ca_file, LDAPTLS_REQCERT="never")
    nc = dump.naming_contexts
    parts = [
        (nc["domain"], collect.ATTRIBUTES),
        (nc["configuration"], collect.ATTRIBUTES),
        (nc["schema"], collect.SCHEMA_ATTRIBUTES),
    ] + [(d, collect.ATTRIBUTES) for d in nc["dns"]]
    start = time.perf_counter()
    for base, attributes in parts:
        subprocess.run(
            [
                "ldapsearch",
                "-LLL",
                "-o",
                "ldif-wrap=no",
                "-x",
                "-H",
                lab.url,
                "-D",
                "Administrator@care.test",
                "-y",
                _pwfile(),
                "-b",
                base,
                "-E",
                "pr=1000/noprompt",
                "-E",
                "!1.2.840.113556.1.4.801=::MAMCAQc=",
                "(objectClass=*)",
                *attributes,
            ],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    return time.perf_counter() - start


_PW: str | None = None


def _pwfile() -> str:
    global _PW
    if _PW is None:
        from tests.directory import samba_lab

        fd, _PW = tempfile.mkstemp()
        with os.fdopen(fd, "w") as handle:
            handle.write(samba_lab.ADMIN_PASSWORD)
    return _PW


# ---- analysis ----------------------------------------------------------------------------------
def generate(users: int, groups: int, seed: int = 4) -> Dump:
    """A large directory: OUs per department, delegated helpdesk rights, nested groups."""
    rnd = random.Random(seed)
    dsid = "S-1-5-21-10-20-30"
    base = "DC=big,DC=test"
    dump = Dump(
        domain="big.test",
        domain_sid=dsid,
        collected_at=NOW.isoformat(),
        naming_contexts={
            "domain": base,
            "configuration": f"CN=Configuration,{base}",
            "schema": f"CN=Schema,CN=Configuration,{base}",
            "dns": [],
        },
        source="synthetic",
        complete=True,
    )
    da = f"{dsid}-512"
    read = 0x00020094
    common = [
        sd.Ace(True, 0x10, sd.GENERIC_ALL, "S-1-5-18"),
        sd.Ace(True, 0x10, sd.GENERIC_ALL, da),
        sd.Ace(True, 0x10, read, "S-1-5-11"),
        sd.Ace(
            True, 0x10, sd.DS_CONTROL_ACCESS, "S-1-5-10", "ab721a53-1e2f-11d0-9819-00aa0040529b"
        ),
    ]
    departments = 50
    helpdesks = [f"{dsid}-{5000 + i}" for i in range(departments)]
    ou_sd = [
        dump.add_descriptor(
            sd.build(
                da,
                da,
                common
                + [
                    sd.Ace(
                        True,
                        0x10,
                        sd.DS_CONTROL_ACCESS,
                        helpdesks[i],
                        "00299570-246d-11d0-a768-00aa006e0529",
                    ),
                    sd.Ace(
                        True,
                        0x10,
                        sd.DS_WRITE_PROPERTY,
                        helpdesks[i],
                        "bf967950-0de6-11d0-a285-00aa003049e2",
                    ),
                ],
            )
        )
        for i in range(departments)
    ]
    group_sd = [
        dump.add_descriptor(
            sd.build(
                da,
                da,
                common
                + [
                    sd.Ace(
                        True,
                        0x10,
                        sd.DS_WRITE_PROPERTY,
                        helpdesks[i],
                        "bf9679c0-0de6-11d0-a285-00aa003049e2",
                    )
                ],
            )
        )
        for i in range(departments)
    ]
    plain = dump.add_descriptor(sd.build(da, da, common))
    now_ft = str(
        int(
            (NOW - dt.timedelta(days=10) - dt.datetime(1601, 1, 1, tzinfo=dt.UTC)).total_seconds()
            * 10**7
        )
    )
    created = "20200101000000.0Z"

    def add(dn, classes, sd_key, **attrs):
        a = {"objectclass": ["top", *classes], "whencreated": [created]}
        a.update({k: v if isinstance(v, list) else [str(v)] for k, v in attrs.items()})
        dump.objects.append({"dn": dn, "a": a, "sd": sd_key})

    add(
        base,
        ["domain", "domainDNS"],
        plain,
        objectsid=dsid,
        **{"msds-behavior-version": 7, "ms-ds-machineaccountquota": 0, "minpwdlength": 12},
    )
    add(f"CN=AdminSDHolder,CN=System,{base}", ["container"], plain)
    user_dns = []
    for i in range(users):
        dept = i % departments
        dn = f"CN=u{i:06d},OU=D{dept:02d},{base}"
        user_dns.append(dn)
        add(
            dn,
            ["person", "user"],
            ou_sd[dept],
            samaccountname=f"u{i:06d}",
            objectsid=f"{dsid}-{100000 + i}",
            useraccountcontrol=512 | (0x10000 if i % 17 == 0 else 0),
            pwdlastset=now_ft,
            lastlogontimestamp=now_ft,
            primarygroupid=513,
        )
    for g in range(groups):
        dept = g % departments
        members = rnd.sample(user_dns, 30)
        if g > 10 and rnd.random() < 0.2:
            members.append(
                f"CN=g{rnd.randrange(g):05d},OU=D{rnd.randrange(g) % departments:02d},{base}"
            )
        add(
            f"CN=g{g:05d},OU=D{dept:02d},{base}",
            ["group"],
            group_sd[dept],
            samaccountname=f"g{g:05d}",
            objectsid=f"{dsid}-{300000 + g}",
            member=members,
        )
    for i, hd in enumerate(helpdesks):
        add(
            f"CN=helpdesk{i:02d},OU=Admins,{base}",
            ["group"],
            plain,
            samaccountname=f"helpdesk{i:02d}",
            objectsid=hd,
            member=[user_dns[i * 7]],
        )
    admins = [f"CN=adm{i},OU=Admins,{base}" for i in range(20)]
    for i, dn in enumerate(admins):
        add(
            dn,
            ["person", "user"],
            plain,
            samaccountname=f"adm{i}",
            objectsid=f"{dsid}-{9000 + i}",
            useraccountcontrol=512,
            pwdlastset=now_ft,
            lastlogontimestamp=now_ft,
            admincount=1,
            primarygroupid=513,
        )
    # One planted chain: helpdesk07 may write the member attribute of Domain Admins.
    da_sd = dump.add_descriptor(
        sd.build(
            da,
            da,
            common
            + [
                sd.Ace(
                    True,
                    0,
                    sd.DS_WRITE_PROPERTY,
                    helpdesks[7],
                    "bf9679c0-0de6-11d0-a285-00aa003049e2",
                )
            ],
        )
    )
    add(
        f"CN=Domain Admins,CN=Users,{base}",
        ["group"],
        da_sd,
        samaccountname="Domain Admins",
        objectsid=da,
        member=admins,
    )
    add(
        f"CN=Domain Users,CN=Users,{base}",
        ["group"],
        plain,
        samaccountname="Domain Users",
        objectsid=f"{dsid}-513",
    )
    return dump


def bench_analysis(users: int, groups: int) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="careops-bench-an-"))
    path = workdir / "big.json.gz"
    start = time.perf_counter()
    save_dump(generate(users, groups), path)
    generated = time.perf_counter() - start
    code = (
        "import datetime as dt, json, resource, sys, time\n"
        "from careops.directory.engine import load_dump, analyze\n"
        "t=time.perf_counter(); d=load_dump(sys.argv[1]); load=time.perf_counter()-t\n"
        "t=time.perf_counter(); r=analyze(d, dt.datetime(2026,11,29,tzinfo=dt.UTC)); a=time.perf_counter()-t\n"
        "print(json.dumps({'load_s': load, 'analyze_s': a, 'level': r.level, 'paths': len(r.paths),"
        " 'exposed': r.exposed_accounts, 'objects': len(d.objects), 'descriptors': len(d.descriptors),"
        " 'peak_mib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    out = json.loads(proc.stdout)
    out.update(
        {
            "users": users,
            "groups": groups,
            "generate_s": round(generated, 1),
            "dump_mib": round(path.stat().st_size / 2**20, 1),
        }
    )
    for key in ("load_s", "analyze_s", "peak_mib"):
        out[key] = round(out[key], 2)
    subprocess.run(["rm", "-rf", str(workdir)], check=False)
    return out


def write_results(results: dict) -> None:
    lines = [
        "<!-- directory:start -->",
        "## Annuaires AD (directory)",
        "",
        "Machine : 2 cœurs, 24 Gio. Commande : `python benchmarks/directory.py --write --keep DOSSIER` (le laboratoire peuplé est gardé et réutilisé).",
        "",
    ]
    c = results.get("collect")
    if c:
        verdict = "atteint" if c["ratio"] <= 1.3 else "NON atteint"
        lines += [
            f"- Collecte LDAPS d'un Samba AD de {c['users']} utilisateurs ({c['objects']} objets, "
            f"{c['distinct_descriptors']} descripteurs distincts, 4 partitions) : careops "
            f"{c['careops_s']} s contre ldapsearch {c['ldapsearch_s']} s — rapport {c['ratio']} "
            f"(objectif ≤ 1,3 : {verdict}) ; collecte compressée {c['dump_mib']} Mio ; "
            + (
                f"provisionnement + peuplement {c['seed_s']} s."
                if c["seed_s"] > 60
                else f"laboratoire déjà peuplé réutilisé (--keep), démarré en {c['seed_s']} s."
            ),
        ]
    a = results.get("analysis")
    if a:
        ok = a["analyze_s"] + a["load_s"] < 20 and a["peak_mib"] < 2048
        lines += [
            f"- Analyse d'un annuaire généré de {a['users']} utilisateurs et {a['groups']} groupes "
            f"({a['objects']} objets, {a['descriptors']} descripteurs distincts) : lecture "
            f"{a['load_s']} s + analyse {a['analyze_s']} s, pic mémoire {a['peak_mib']:.0f} Mio "
            f"(objectif < 20 s et < 2 Gio : {'atteint' if ok else 'NON atteint'}) ; "
            f"{a['paths']} chemins, {a['exposed']} comptes exposés.",
        ]
    load = results.get("load")
    if load:
        lines += [
            f"- Charge de la machine (load average 1/5/15 min) avant : {load[0]} ; après : "
            f"{load[1]} ; les deux outils de collecte sont mesurés en alternance, {RUNS} fois "
            "chacun, meilleur temps retenu ; careops répartit la collecte sur trois connexions "
            "(sous-arbres du domaine, configuration, schéma, DNS), ldapsearch lit les partitions "
            "l'une après l'autre sur une connexion.",
        ]
    lines += ["<!-- directory:end -->"]
    replace_section("directory", "\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20000)
    parser.add_argument("--analysis-users", type=int, default=100000)
    parser.add_argument("--analysis-groups", type=int, default=10000)
    parser.add_argument("--skip-collect", action="store_true")
    parser.add_argument("--skip-analysis", action="store_true")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--keep", help="keep the seeded Samba lab in this folder and reuse it")
    args = parser.parse_args()
    results: dict = {}
    before = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    if not args.skip_analysis:
        results["analysis"] = bench_analysis(args.analysis_users, args.analysis_groups)
        print(json.dumps(results["analysis"]), flush=True)
    if not args.skip_collect:
        results["collect"] = bench_collect(args.users, args.keep)
        print(json.dumps(results["collect"]), flush=True)
    results["load"] = (before, ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    if args.write:
        write_results(results)
    _ = resource


if __name__ == "__main__":
    main()
