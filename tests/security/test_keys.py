"""11.15 — keys: a dedicated encryption key in production, rotation of every stored secret,
private data folder and files."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError

from careops import config
from careops.backups.models import Repository
from careops.backups.services import set_repository_password
from careops.core import crypto
from careops.directory.models import Domain

CLI = str(Path(sys.executable).with_name("careops"))


def _env(tmp_path, **extra) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CAREOPS_") and k != "DJANGO_SETTINGS_MODULE"
    }
    env.update({"CAREOPS_DATA_DIR": str(tmp_path / "data"), **extra})
    return env


def test_production_without_a_dedicated_key_refuses_to_start(tmp_path):
    done = subprocess.run(  # noqa: S603
        [CLI, "check"], env=_env(tmp_path, CAREOPS_ENV="production"), capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "clé de chiffrement dédiée est obligatoire" in done.stderr
    key_file = tmp_path / "cle"
    key_file.write_text(Fernet.generate_key().decode() + "\n")
    done = subprocess.run(  # noqa: S603
        [CLI, "check"],
        env=_env(tmp_path, CAREOPS_ENV="production", CAREOPS_ENCRYPTION_KEY_FILE=str(key_file)),
        capture_output=True,
        text=True,
    )
    assert "clé de chiffrement" not in done.stderr


def test_a_malformed_key_is_refused_in_french():
    with pytest.raises(config.ConfigError) as caught:
        config.check_encryption_key({"ENV": "development", "ENCRYPTION_KEY": "pas-une-cle"})
    assert "n'est pas une clé Fernet" in str(caught.value)


def test_data_folder_and_sqlite_files_are_private(tmp_path):
    code = "import django; django.setup(); print('ok')"
    env = _env(tmp_path, DJANGO_SETTINGS_MODULE="careops.settings")
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )
    assert done.stdout.strip() == "ok", done.stderr
    data = tmp_path / "data"
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for name in ("careops.sqlite3", "queue.sqlite3", "secret_key"):
        assert stat.S_IMODE((data / name).stat().st_mode) == 0o600, name


@pytest.mark.django_db
def test_uploaded_evidence_files_are_private():
    name = default_storage.save("preuves/test-mode.pdf", ContentFile(b"%PDF-1.4 test"))
    try:
        mode = stat.S_IMODE(os.stat(default_storage.path(name)).st_mode)
        assert mode == 0o600
        folder = stat.S_IMODE(os.stat(Path(default_storage.path(name)).parent).st_mode)
        assert folder == 0o700
    finally:
        default_storage.delete(name)


@pytest.mark.django_db
def test_rotation_re_encrypts_every_stored_secret_and_reports_counts(org_tree, monkeypatch):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setitem(settings.CONFIG, "ENCRYPTION_KEY", old)
    Domain.objects.create(
        organisation=org_tree.ej_a, name="a.test", bind_password_encrypted=crypto.encrypt("ad")
    )
    repo = Repository(organisation=org_tree.ej_a, name="r", driver="restic", location="/srv/r")
    set_repository_password(repo, "depot")
    repo.s3_access_key_encrypted = crypto.encrypt("AKIA")
    repo.s3_secret_key_encrypted = crypto.encrypt("s3-secret")
    repo.save()

    monkeypatch.setitem(settings.CONFIG, "ENCRYPTION_KEY", f"{new},{old}")
    out = StringIO()
    call_command("careops_secrets", "rotate", stdout=out)
    text = out.getvalue()
    assert "directory.Domain.bind_password_encrypted : 1 rechiffré(s)" in text
    assert "backups.Repository.s3_secret_key_encrypted : 1 rechiffré(s)" in text
    assert "Total : 4 secret(s) rechiffré(s), 0 illisible(s)." in text

    # the old key can go: every secret reads with the new key alone, and not with the old one
    domain = Domain.objects.get()
    repo.refresh_from_db()
    for token, clear in (
        (domain.bind_password_encrypted, "ad"),
        (repo.password_encrypted, "depot"),
        (repo.s3_access_key_encrypted, "AKIA"),
        (repo.s3_secret_key_encrypted, "s3-secret"),
    ):
        assert Fernet(new.encode()).decrypt(token.encode()).decode() == clear
        with pytest.raises(InvalidToken):
            Fernet(old.encode()).decrypt(token.encode())
    monkeypatch.setitem(settings.CONFIG, "ENCRYPTION_KEY", new)
    assert crypto.decrypt(repo.password_encrypted) == "depot"


@pytest.mark.django_db
def test_rotation_without_the_old_key_says_what_is_unreadable(org_tree, monkeypatch):
    monkeypatch.setitem(settings.CONFIG, "ENCRYPTION_KEY", Fernet.generate_key().decode())
    Domain.objects.create(
        organisation=org_tree.ej_a, name="a.test", bind_password_encrypted=crypto.encrypt("ad")
    )
    monkeypatch.setitem(settings.CONFIG, "ENCRYPTION_KEY", Fernet.generate_key().decode())
    with pytest.raises(CommandError) as caught:
        call_command("careops_secrets", "rotate", stdout=StringIO())
    assert "1 secret(s) illisible(s)" in str(caught.value)


@pytest.mark.django_db
def test_a_derived_development_key_is_replaced_by_a_dedicated_one(org_tree, monkeypatch):
    monkeypatch.setitem(settings.CONFIG, "ENCRYPTION_KEY", "")
    token = crypto.encrypt("ad")
    Domain.objects.create(organisation=org_tree.ej_a, name="a.test", bind_password_encrypted=token)
    dedicated = Fernet.generate_key().decode()
    monkeypatch.setitem(settings.CONFIG, "ENCRYPTION_KEY", dedicated)
    call_command("careops_secrets", "rotate", stdout=StringIO())
    stored = Domain.objects.get().bind_password_encrypted
    assert Fernet(dedicated.encode()).decrypt(stored.encode()) == b"ad"


@pytest.mark.django_db
def test_second_factor_secrets_are_encrypted_at_rest_and_rotated(org_tree, make_user, monkeypatch):
    """TOTP keys and recovery-code seeds were kept in clear by allauth: a copy of the database
    or of a platform backup gave away every instructor's second factor."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
    from allauth.mfa.totp.internal.auth import TOTP

    from careops.core.adapters import MFAAdapter
    from tests.web.helpers import totp_code

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setitem(settings.CONFIG, "ENCRYPTION_KEY", old)
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    ars = make_user("ars_instructor", org_tree.ars_idf)
    totp = TOTP.activate(ars, secret)
    codes = RecoveryCodes.activate(ars)
    stored = Authenticator.objects.get(pk=totp.instance.pk).data["secret"]
    assert secret not in stored and Fernet(old.encode()).decrypt(stored.encode()) == secret.encode()
    assert codes.instance.data["seed"].startswith("gAAAAA")
    assert TOTP(Authenticator.objects.get(pk=totp.instance.pk)).validate_code(totp_code(secret))
    recovery = codes.get_unused_codes()[0]

    # one enrolled before encryption (clear secret) still signs in, and rotation encrypts it
    legacy = make_user("administrator", org_tree.ans)
    legacy_secret = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"
    Authenticator.objects.create(
        user=legacy, type=Authenticator.Type.TOTP, data={"secret": legacy_secret}
    )
    assert TOTP(Authenticator.objects.get(user=legacy)).validate_code(totp_code(legacy_secret))

    monkeypatch.setitem(settings.CONFIG, "ENCRYPTION_KEY", f"{new},{old}")
    out = StringIO()
    call_command("careops_secrets", "rotate", stdout=out)
    assert "mfa.Authenticator.data : 3 rechiffré(s), 0 illisible(s)" in out.getvalue()
    monkeypatch.setitem(settings.CONFIG, "ENCRYPTION_KEY", new)  # the old key can go
    for user, clear in ((ars, secret), (legacy, legacy_secret)):
        authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
        assert Fernet(new.encode()).decrypt(authenticator.data["secret"].encode()) == clear.encode()
        assert MFAAdapter().decrypt(authenticator.data["secret"]) == clear  # what sign-in reads
    seeded = Authenticator.objects.get(user=ars, type=Authenticator.Type.RECOVERY_CODES)
    assert RecoveryCodes(seeded).validate_code(recovery)


def test_upgrade_migration_encrypts_second_factors_enrolled_in_clear(org_tree, make_user):
    """The secrets enrolled before encryption do not wait for `careops secrets rotate`: the
    core 0004 migration encrypts them at upgrade, and sign-in still reads them."""
    import importlib

    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP
    from django.apps import apps

    from tests.web.helpers import totp_code

    clear = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"
    admin = make_user("administrator", org_tree.ans)
    Authenticator.objects.create(user=admin, type=Authenticator.Type.TOTP, data={"secret": clear})
    migration = importlib.import_module("careops.core.migrations.0004_encrypt_mfa_secrets")
    migration.encrypt_clear_secrets(apps, None)
    migration.encrypt_clear_secrets(apps, None)  # run twice: encrypted once, not twice
    stored = Authenticator.objects.get(user=admin).data["secret"]
    assert stored.startswith("gAAAAA") and clear not in stored
    assert TOTP(Authenticator.objects.get(user=admin)).validate_code(totp_code(clear))
