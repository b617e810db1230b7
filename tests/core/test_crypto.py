import pytest

from careops.core import crypto


def test_round_trip_and_no_clear_text():
    token = crypto.encrypt("mot-de-passe-AD")
    assert "mot-de-passe-AD" not in token
    assert crypto.decrypt(token) == "mot-de-passe-AD"


def test_altered_secret_is_refused_in_french():
    token = crypto.encrypt("x")
    with pytest.raises(crypto.SecretUnreadable) as caught:
        crypto.decrypt(token[:-4] + "AAAA")
    assert "Secret illisible" in str(caught.value)
