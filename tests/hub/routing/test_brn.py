"""Business registration numbers: normalised, and typos caught by the check digit."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.routing.brn import check_digit, normalize_business_number

# A published number (Samsung Electronics): its check digit is 8.
KNOWN = "124-81-00998"


@pytest.mark.parametrize("text", ["124-81-00998", "1248100998", " 124 81 00998 ", "124-8100-998"])
def test_valid_numbers_are_normalised(text: str) -> None:
    assert normalize_business_number(text) == KNOWN


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty; write its 10 digits"),
        (" - ", "is empty"),
        ("124-81-0099", "has 9 digits, not 10"),
        ("124-81-009981", "has 11 digits, not 10"),
        ("124/81/00998", "characters other than digits, dashes and spaces"),
        ("124-81-0099O", "characters other than digits"),
        # Full-width digits pass str.isdigit() but are not what the certificate shows.
        ("１２４-81-00998", "characters other than digits"),
        ("124-81-00997", "check the number on the registration certificate"),
    ],
)
def test_bad_numbers_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalize_business_number(text)


nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)


@given(nine_digits)
def test_any_nine_digits_with_their_check_digit_are_valid(first: str) -> None:
    number = first + str(check_digit(first))
    assert normalize_business_number(number).replace("-", "") == number


@given(nine_digits, st.integers(0, 9), st.integers(1, 9))
def test_any_single_wrong_digit_is_caught(first: str, position: int, shift: int) -> None:
    digits = list(first + str(check_digit(first)))
    digits[position] = str((int(digits[position]) + shift) % 10)
    with pytest.raises(ValueError, match="check digit"):
        normalize_business_number("".join(digits))
