"""Korean business registration numbers (사업자등록번호).

Centers contact the company and invoice it by this number, so a mistyped one would reach
them as a request they cannot act on. The number's check digit catches most typos at
submission, when the company can still correct it. Stored and shown as ``NNN-NN-NNNNN``.
"""

from __future__ import annotations

_WEIGHTS = (1, 3, 7, 1, 3, 7, 1, 3, 5)
_EXAMPLE = "123-45-67890"


def check_digit(first_nine: str) -> int:
    """The tenth digit that makes ``first_nine`` (9 ASCII digits) a valid number."""
    digits = [int(c) for c in first_nine]
    total = sum(d * w for d, w in zip(digits, _WEIGHTS, strict=True))
    # The ninth digit counts twice: once weighted 5 above, and once as floor(d9 * 5 / 10).
    total += digits[8] * 5 // 10
    return (10 - total % 10) % 10


def normalize_business_number(text: str) -> str:
    """``"1234567890"`` or ``"123 45 67890"`` -> ``"123-45-67890"``; ValueError says why not."""
    shown = text.strip()[:40]
    compact = "".join(c for c in text if c not in "- \t")
    if not compact:
        raise ValueError(
            f"the business registration number is empty; write its 10 digits, e.g. {_EXAMPLE}"
        )
    # ASCII only: str.isdigit() would also pass other scripts' digits, which int() accepts.
    if any(c not in "0123456789" for c in compact):
        raise ValueError(
            f"business registration number {shown!r} holds characters other than digits, "
            f"dashes and spaces; write its 10 digits, e.g. {_EXAMPLE}"
        )
    if len(compact) != 10:
        raise ValueError(
            f"business registration number {shown!r} has {len(compact)} digits, not 10; "
            f"write all 10 digits, e.g. {_EXAMPLE}"
        )
    if check_digit(compact[:9]) != int(compact[9]):
        raise ValueError(
            f"business registration number {shown!r} is not valid (its check digit does not "
            "match); check the number on the registration certificate (사업자등록증)"
        )
    return f"{compact[:3]}-{compact[3:5]}-{compact[5:]}"
