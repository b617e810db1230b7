"""Services moved to ports that give no hint: named from what they answer, with the defaults."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time

import pytest

from careops.exposure.engine import scan_sync
from careops.exposure.engine.probes import classify_banner
from careops.exposure.engine.scanner import ScanOptions, identify
from tests.exposure.conftest import need
from tests.exposure.helpers import free_port, identify_behind
from tests.exposure.test_engine_units import NOW


@pytest.fixture
def redis_elsewhere(tmp_path):
    """A real redis-server without password on 127.0.0.1, on a free port (never 6379)."""
    server = shutil.which("redis-server")
    need("" if server else "redis-server absent (voir .ci/run)")
    port = free_port()
    process = subprocess.Popen(
        [server, "--bind", "127.0.0.1", "--port", str(port), "--protected-mode", "no",
         "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    end = time.monotonic() + 20
    while time.monotonic() < end:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        if process.poll() is not None:
            pytest.fail("redis-server s'est arrêté au démarrage")
        time.sleep(0.05)
    try:
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_a_redis_on_an_unusual_port_is_named_and_its_missing_password_flagged(redis_elsewhere):
    # Redis is mute to the TLS, RDP and SMB probes and drops the HTTP one: it used to be left
    # alone as a silent port before its own probe came, « unknown », with no finding
    service = asyncio.run(
        identify("127.0.0.1", redis_elsewhere, None, ScanOptions(tls_checks=False), NOW)
    )
    assert (service.service, service.product) == ("redis", "Redis")
    assert service.version and service.details["auth_required"] is False
    result = scan_sync(
        ["127.0.0.1"],
        ScanOptions(ports=[redis_elsewhere], allow_private=True, tls_checks=False),
        now=NOW,
    )
    assert {f.rule for f in result.findings if f.port == redis_elsewhere} >= {
        "EXP-DB-001",
        "EXP-DB-002",
    }


def test_sendmail_is_named_from_its_greeting():
    greeting = b"220 mail.chu-exemple.fr ESMTP Sendmail 8.15.2/8.15.2; Sat, 5 Dec 2026 10:00\r\n"
    service = classify_banner(greeting)
    assert (service.service, service.product, service.version) == ("smtp", "Sendmail", "8.15.2")
    assert service.cpe.startswith("cpe:2.3:a:sendmail:sendmail:8.15.2:")


def test_message_brokers_are_named_from_what_they_send():
    # RabbitMQ answers any other first bytes with its protocol header, then closes
    amqp = classify_banner(b"AMQP\x00\x00\x09\x01")
    assert (amqp.service, amqp.product, amqp.version) == ("amqp", "AMQP", "0-9-1")
    nats = classify_banner(
        b'INFO {"server_id":"NDS3FEJJ","server_name":"n1","version":"2.9.10","proto":1} \r\n'
    )
    assert (nats.service, nats.product, nats.version) == ("nats", "NATS", "2.9.10")


def test_an_amqp_broker_on_any_port_is_named_from_its_answer_to_another_probe():
    async def broker(reader, writer):
        try:
            header = await asyncio.wait_for(reader.read(8), 5)
            if header != b"AMQP\x00\x00\x09\x01":
                writer.write(b"AMQP\x00\x00\x09\x01")  # what RabbitMQ does
                await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    service = identify_behind(broker, NOW)
    assert (service.service, service.product, service.version) == ("amqp", "AMQP", "0-9-1")
