"""``careops exposure scan`` given what users get wrong: a sentence in French, never a traceback."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from careops.exposure.engine import cli, targets

ROOT = Path(__file__).resolve().parents[2]


def _scan(capsys, *args: str) -> tuple[int, str]:
    """``scan ARGS`` through the engine's command line: exit code and what went to stderr."""
    try:
        code = cli.main(["scan", *args])
    except SystemExit as exc:  # argparse refusals
        code = exc.code
    return code, capsys.readouterr().err


def test_a_vulnerability_base_that_cannot_be_read_is_refused_before_any_probe(
    capsys, tmp_path, monkeypatch
):
    # it used to be found out after the whole sweep: a missing path as a remark, a directory or
    # another file as a sqlite3 traceback that lost the audit
    monkeypatch.setattr(cli, "scan_sync", lambda *a, **k: pytest.fail("scan before the check"))
    junk = tmp_path / "vulndb.sqlite3"
    junk.write_text("pas une base\n")
    for path, expected in (
        (tmp_path / "absent.sqlite3", "Base de vulnérabilités absente"),
        (tmp_path, "Base de vulnérabilités illisible"),
        (junk, "Base de vulnérabilités illisible"),
    ):
        code, err = _scan(capsys, "127.0.0.1", "--allow-private", "--vulndb", str(path))
        assert code == 1 and expected in err and "Traceback" not in err, err


def test_a_damaged_default_base_is_said_and_the_audit_still_runs(tmp_path):
    junk = tmp_path / "vulndb.sqlite3"
    junk.write_bytes(b"\x00" * 64)
    out, err = io.StringIO(), io.StringIO()
    parser = cli.argparse.ArgumentParser()
    cli.add_scan_arguments(parser)
    options = vars(parser.parse_args(["127.0.0.1", "--ports", "1", "--allow-private"]))
    assert cli.run_scan(options, out, err, default_vulndb=str(junk)) == 0
    assert "Base de vulnérabilités illisible" in err.getvalue()
    assert "127.0.0.1 : 0 service(s)" in out.getvalue()


def test_a_bad_dns_server_is_refused_in_french(capsys):
    for server in ("pas-une-ip", "192.0.2.53:99999", "192.0.2.53:x"):
        code, err = _scan(capsys, "portail.chu-exemple.fr", "--nameserver", server)
        assert code == 2 and "adresse IP de serveur DNS attendue" in err, err
    assert cli.nameserver("192.0.2.53:5353") == "192.0.2.53:5353"
    assert cli.nameserver("2001:db8::53") == "2001:db8::53"


def test_a_reversed_port_range_is_named_as_such():
    with pytest.raises(targets.TargetError, match="à l'envers : « 80-22 »"):
        targets.parse_ports("80-22")


def test_an_output_that_cannot_be_written_is_said(capsys, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sys.stdout, "write", full)
    code, err = _scan(capsys, "127.0.0.1", "--ports", "1", "--allow-private", "--json")
    assert code == 1 and "écriture du résultat impossible" in err and "Traceback" not in err


def test_ctrl_c_mid_scan_ends_with_a_sentence():
    """SIGINT once the connect sweep has reached our listener, while the sweep of every port of
    two addresses goes on: one sentence, no traceback (nor one logged per address)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        process = subprocess.Popen(
            [sys.executable, "-m", "careops.exposure.engine", "scan", "127.0.0.1", "127.0.0.2",
             "--ports", f"{port}-65535", "--method", "connect", "--allow-private",
             "--no-tls-checks"],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        listener.settimeout(30)
        connection, _ = listener.accept()  # the scan is running
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
        connection.close()
    assert process.returncode == 130, err
    assert "audit interrompu" in err and "Traceback" not in err, err


def test_a_dns_server_that_never_answers_is_said_in_french():
    import asyncio

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as mute:  # receives, never answers
        mute.bind(("127.0.0.1", 0))
        server = f"127.0.0.1:{mute.getsockname()[1]}"
        resolver = targets.make_resolver([server], timeout=0.2)
        answer = asyncio.run(targets.resolve("portail.chu-exemple.fr", resolver))
    assert answer.error == (
        "Résolution impossible de « portail.chu-exemple.fr » : aucun serveur DNS n'a répondu à temps."
    )


def test_dns_servers_that_refuse_are_not_reported_as_a_name_without_address():
    import asyncio
    import threading

    import dns.message
    import dns.rcode

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))
        server.settimeout(5)

        def refuse() -> None:  # REFUSED to every query, as a resolver closed to us does
            try:
                while True:
                    query, peer = server.recvfrom(512)
                    response = dns.message.make_response(dns.message.from_wire(query))
                    response.set_rcode(dns.rcode.REFUSED)
                    server.sendto(response.to_wire(), peer)
            except OSError:
                return

        threading.Thread(target=refuse, daemon=True).start()
        resolver = targets.make_resolver([f"127.0.0.1:{server.getsockname()[1]}"], timeout=2)
        answer = asyncio.run(targets.resolve("portail.chu-exemple.fr", resolver))
    assert "Aucune adresse" not in answer.error
    assert answer.error.startswith("Résolution impossible de « portail.chu-exemple.fr » : ")
    assert "refusé" in answer.error
