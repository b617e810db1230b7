"""11.11 — ssh repositories connect to the checked address, not to a second DNS answer.

A real OpenSSH server on 127.0.0.1 serves a real borg repository. The repository is named by a
host name that only careops' resolver knows (``socket.getaddrinfo`` answers 127.0.0.1 for it in
this process); the ssh client, a separate process, cannot resolve it at all. The verification
succeeds only because careops hands ssh the address it checked (``HostName``), keeping the name
for the known host key (``HostKeyAlias``) — as it would against a name that re-resolves
elsewhere (DNS rebinding).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest

from careops.backups.engine.config import parse_config
from careops.backups.engine.verify import run_verification
from careops.egress import EgressPolicy
from tests.backups import conftest as backups_fixtures
from tests.backups.conftest import PASSWORD, free_port

backup_world = backups_fixtures.backup_world
world = backups_fixtures.world
NAME = "sauvegarde.rebind.test"


@pytest.fixture
def sshd(tmp_path):
    """An sshd on 127.0.0.1 accepting one client key (yields port, client key, known_hosts)."""
    for tool in ("/usr/sbin/sshd", "ssh-keygen", "ssh"):
        if not shutil.which(tool):
            pytest.skip(f"OUTIL ABSENT — {tool} (paquets Debian openssh-server/openssh-client)")
    folder = tmp_path / "ssh"
    folder.mkdir()
    for key in ("hote", "client"):
        subprocess.run(  # noqa: S603
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / key)],  # noqa: S607
            check=True,
        )
    (folder / "authorized_keys").write_text((folder / "client.pub").read_text())
    port = free_port()
    host_key = (folder / "hote.pub").read_text().split()
    (folder / "known_hosts").write_text(
        f"{NAME} {host_key[0]} {host_key[1]}\n[{NAME}]:{port} {host_key[0]} {host_key[1]}\n"
    )
    config = folder / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {folder / 'hote'}\n"
        f"AuthorizedKeysFile {folder / 'authorized_keys'}\nStrictModes no\nUsePAM no\n"
        f"PermitRootLogin prohibit-password\nPasswordAuthentication no\n"
        f"PidFile {folder / 'sshd.pid'}\n"
    )
    proc = subprocess.Popen(  # noqa: S603
        ["/usr/sbin/sshd", "-D", "-e", "-f", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("sshd n'a pas démarré : " + proc.stderr.read().decode()[-500:])
            time.sleep(0.05)  # bounded wait for the listener
    yield port, folder / "client", folder / "known_hosts"
    proc.terminate()
    proc.wait(timeout=10)


def _config(world, port, client_key, known_hosts):  # noqa: F811
    user = subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()  # noqa: S607
    rsh = (
        f"ssh -i {client_key} -o UserKnownHostsFile={known_hosts} "
        "-o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=10"
    )
    return parse_config(
        {
            "repositories": [
                {
                    "name": "borg-ssh",
                    "driver": "borg",
                    "location": f"ssh://{user}@{NAME}:{port}{world / 'borg'}",
                    "cache_dir": "borg-home",
                    "env": {"BORG_RSH": rsh},
                    "checks": {"structure": False},
                }
            ]
        },
        base_dir=str(world),
        require_passwords=False,
    )


def test_borg_over_ssh_connects_to_the_checked_address(world, sshd, monkeypatch):  # noqa: F811
    port, client_key, known_hosts = sshd
    real = socket.getaddrinfo

    def resolver(host, *args, **kwargs):
        if host == NAME:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    config = _config(world, port, client_key, known_hosts)
    passwords = {"borg-ssh": PASSWORD}
    # without the pin, ssh resolves the name itself and finds nothing
    unpinned = run_verification(config, passwords=passwords).repositories[0].checks[0]
    assert unpinned.status == "error"
    pinned = run_verification(
        config, passwords=passwords, egress=EgressPolicy(allow_internal=True)
    ).repositories[0]
    assert pinned.checks[0].status == "ok", pinned.checks[0].message
    assert pinned.snapshot_count == 2
    # and the policy still refuses the loopback address without internal targets
    refused = run_verification(config, passwords=passwords, egress=EgressPolicy()).repositories[0]
    assert refused.checks[0].status == "error" and "bouclage" in refused.checks[0].message


def test_restic_sftp_command_is_pinned_to_the_checked_address():
    from careops.backups.engine.verify import _sftp_command

    command = _sftp_command(
        "sftp:sauvegarde@nas.chu.test:/srv/restic", "nas.chu.test", 22, "10.0.0.5"
    )
    assert command == (
        "ssh -o HostName=10.0.0.5 -o HostKeyAlias=nas.chu.test -p 22 -l sauvegarde "
        "nas.chu.test -s sftp"
    )
