"""The one configuration loader: defaults, environment, then secrets from files."""

import pytest

from careops import config


def test_defaults_apply_without_environment():
    values = config.load({})
    assert values["LANGUAGE"] == "fr"
    assert values["DATABASE_URL"] == ""


def test_environment_overrides_defaults_with_types():
    values = config.load({"CAREOPS_DEBUG": "true", "CAREOPS_UPLOAD_MAX_BYTES": "1024"})
    assert values["DEBUG"] is True
    assert values["UPLOAD_MAX_BYTES"] == 1024


def test_secret_read_from_a_file(tmp_path):
    secret = tmp_path / "db"
    secret.write_text("postgres://u:p@127.0.0.1/careops\n")
    by_suffix = config.load({"CAREOPS_DATABASE_URL_FILE": str(secret)})
    by_scheme = config.load({"CAREOPS_DATABASE_URL": f"file://{secret}"})
    assert (
        by_suffix["DATABASE_URL"] == by_scheme["DATABASE_URL"] == "postgres://u:p@127.0.0.1/careops"
    )


def test_missing_secret_file_is_a_clear_error(tmp_path):
    with pytest.raises(config.ConfigError) as caught:
        config.load({"CAREOPS_SECRET_KEY_FILE": str(tmp_path / "absent")})
    assert "Impossible de lire le secret" in str(caught.value)
    assert "fichier introuvable" in str(caught.value)
    assert "No such file" not in str(caught.value)


def test_bad_integer_is_a_clear_error():
    with pytest.raises(config.ConfigError):
        config.load({"CAREOPS_UPLOAD_MAX_BYTES": "beaucoup"})


def test_generated_secret_key_is_kept_and_private(tmp_path):
    values = config.load({"CAREOPS_DATA_DIR": str(tmp_path)})
    first = config.secret_key(values)
    assert first == config.secret_key(values)
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_exposure_politeness_knobs_are_read_with_their_types():
    loaded = config.load(
        {
            "CAREOPS_EXPOSURE_RATE": "250.5",
            "CAREOPS_EXPOSURE_PER_HOST": "20",
            "CAREOPS_EXPOSURE_TLS_CONNECTIONS": "2",
        }
    )
    assert loaded["EXPOSURE_RATE"] == 250.5 and loaded["EXPOSURE_PER_HOST"] == 20
    assert loaded["EXPOSURE_TLS_CONNECTIONS"] == 2
    assert config.load({})["EXPOSURE_RATE"] == 0.0  # unlimited unless the operator sets a rate
    with pytest.raises(config.ConfigError, match="numérique"):
        config.load({"CAREOPS_EXPOSURE_RATE": "vite"})
