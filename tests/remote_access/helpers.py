"""Builders for the remote-access tests: inventories, and bastion logs in their documented formats.

Guacamole: the CSV of *Settings → History → Download* (guacamole-client's ``downloadCSV``:
Username, Start time, Duration in seconds, Connection name, Remote host). The Bastion: syslog
lines ``bastion: open|close uniqid="…" …`` as in its *administration/logs* page, and the JSON
its plugins print between ``JSON_START`` and ``JSON_END`` (connection table columns).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

from careops.remote_access.engine.inventory import write_inventory
from careops.remote_access.engine.model import AccessPath


def vendor_path(**extra) -> AccessPath:
    """A well-run vendor tele-maintenance path (every declared check passes)."""
    values = dict(
        ref="RA-BIO-01",
        name="Télémaintenance IRM",
        population="biomedical_vendor",
        vendor="Imagerie SA",
        contract_ref="C-2025-14",
        contract_security_clauses=True,
        workstation_requirements=True,
        justification="Maintenance corrective de l'IRM",
        business_owner="Chef de service imagerie",
        technical_owner="Ingénieur biomédical",
        technology="bastion_pam",
        entry_point="bastion.chu-test.fr:443",
        internet_exposed=True,
        source_ip_restriction="198.51.100.0/28",
        auth_factors=["password", "totp"],
        account_model="nominative",
        accounts=["imagerie.dupont"],
        directory="local",
        activation="on_demand",
        allowed_windows="lun-ven 08:00-18:00",
        session_recording=True,
        recording_retention_days=180,
        logs_to_siem=True,
        log_retention_days=365,
        through_bastion=True,
        unmanaged_tools=False,
        last_access_review=(dt.date.today() - dt.timedelta(days=60)).isoformat(),
        target_networks=["10.20.0.0/24"],
    )
    values.update(extra)
    return AccessPath(**values)


def inventory_bytes(paths: list[AccessPath]) -> bytes:
    return write_inventory(paths)


def guacamole_csv(rows: list[tuple[str, dt.datetime, float, str, str]]) -> str:
    """(username, start, duration_s, connection, user's remote host) rows as Guacamole's CSV."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Username", "Start time", "Duration", "Connection name", "Remote host"])
    for user, start, duration, connection, remote in rows:
        writer.writerow(
            [user, start.strftime("%b %d, %Y %I:%M:%S %p"), duration, connection, remote]
        )
    return out.getvalue()


def the_bastion_syslog(sessions: list[dict]) -> str:
    """Open/close syslog pairs; each dict: account, user, ip_to, start (datetime), duration,
    recorded (bool: a ttyrec -f FILE in params, as every egress session has)."""
    lines = []
    for n, s in enumerate(sessions):
        uniqid = f"{n:012x}"
        start = s["start"]
        ttyrec = (
            f"ttyrec -f /home/{s['account']}/ttyrec/{s['ip_to']}/{start:%Y-%m-%d.%H-%M-%S}.000000."
            f"{uniqid}.{s['account']}.{s['user']}.{s['ip_to']}.22.ttyrec -- "
            if s.get("recorded", True)
            else ""
        )
        common = (
            f'uniqid="{uniqid}" version="3.14.15" pid="{1000 + n}" ppid="{999 + n}" '
            f'sysuser="{s["account"]}" sudo_user="" uid="9000" gid="9000" account="{s["account"]}" '
            f'cmdtype="ssh" allowed="true" ip_from="198.51.100.7" port_from="50000" '
            f'host_from="198.51.100.7" ip_bastion="10.20.0.5" port_bastion="22" '
            f'host_bastion="bastion.chu-test.fr" user="{s["user"]}" ip_to="{s["ip_to"]}" port_to="22" '
            f'host_to="{s["ip_to"]}" plugin="" globalsql="ok" accountsql="ok" comment="" '
            f'params="{ttyrec}/usr/bin/ssh {s["ip_to"]} -l {s["user"]} -p 22"'
        )
        end = start + dt.timedelta(seconds=s["duration"])
        stamp = f"{start:%b} {start.day:>2} {start:%H:%M:%S}"  # classic syslog: no year
        end_stamp = f"{end:%b} {end.day:>2} {end:%H:%M:%S}"
        lines.append(f"{stamp} bastion1 bastion: open {common}")
        lines.append(
            f'{end_stamp} bastion1 bastion: close {common} sysret="0" signal="" '
            f'comment_close="" duration="{s["duration"]:.3f}"'
        )
    return "\n".join(lines) + "\n"


def the_bastion_json(sessions: list[dict]) -> str:
    """The JSON block of a plugin's ``--json`` output with the connection table's columns."""
    value = []
    for n, s in enumerate(sessions):
        start = int(s["start"].replace(tzinfo=dt.UTC).timestamp())
        value.append(
            {
                "id": n + 1,
                "uniqid": f"{n:012x}",
                "timestamp": start,
                "timestampusec": 0,
                "account": s["account"],
                "cmdtype": "ssh",
                "allowed": 1,
                "hostfrom": "198.51.100.7",
                "ipfrom": "198.51.100.7",
                "bastionip": "10.20.0.5",
                "bastionport": 22,
                "hostto": s["ip_to"],
                "ipto": s["ip_to"],
                "portto": 22,
                "user": s["user"],
                "plugin": None,
                "params": "",
                "ttyrecfile": f"/home/{s['account']}/ttyrec/{s['ip_to']}/x.ttyrec"
                if s.get("recorded", True)
                else None,
                "timestampend": start + int(s["duration"]),
                "timestampendusec": 0,
                "returnvalue": 0,
                "comment": None,
            }
        )
    doc = {"error_code": "OK", "command": "selfListSessions", "error_message": "OK", "value": value}
    return "some banner text\nJSON_START\n" + json.dumps(doc) + "\nJSON_END\n"
