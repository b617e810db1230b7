import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from careops.tenancy import finess


@pytest.mark.parametrize("number", ["750712184", "380780080", "690781810", "130786049"])
def test_real_finess_numbers_are_accepted(number):
    assert finess.validate(number) == number


def test_spaces_and_lower_case_are_normalised():
    assert finess.validate(" 75 071 2184 ") == "750712184"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("75071218", "9 caractères"),
        ("7507121845", "9 caractères"),
        ("000712184", "préfixe départemental « 00 »"),
        ("96071218X", "préfixe départemental"),
        ("75A712184", "seuls les deux premiers"),
        ("750712185", "clé de contrôle"),
    ],
)
def test_invalid_finess_gives_the_reason_in_french(value, fragment):
    with pytest.raises(finess.FinessError) as caught:
        finess.validate(value)
    assert fragment in str(caught.value)
    assert str(caught.value).startswith("Numéro FINESS")


@given(st.from_regex(r"(0[1-9]|[1-8][0-9]|9[0-5]|2A|2B)[0-9]{6}", fullmatch=True))
def test_with_key_always_gives_a_valid_number(first_eight):
    if first_eight.startswith("20"):
        return  # département 20 no longer exists (Corsica is 2A / 2B)
    number = finess.with_key(first_eight)
    assert finess.validate(number) == number


@given(st.from_regex(r"(0[1-9]|[3-8][0-9]|9[0-5])[0-9]{6}", fullmatch=True), st.integers(1, 9))
def test_any_single_digit_change_of_the_key_is_caught(first_eight, delta):
    number = finess.with_key(first_eight)
    wrong = number[:8] + str((int(number[8]) + delta) % 10)
    with pytest.raises(finess.FinessError):
        finess.validate(wrong)


def test_model_refuses_invalid_finess_and_saves_nothing(org_tree):
    from careops.tenancy.models import Organisation

    before = Organisation.objects.count()
    node = Organisation(parent=org_tree.ght, kind="ej", name="CH Faux", finess="920000019")
    with pytest.raises(ValidationError) as caught:
        node.full_clean()
    assert "clé de contrôle" in str(caught.value)
    assert Organisation.objects.count() == before
