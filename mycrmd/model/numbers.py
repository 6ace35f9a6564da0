"""Whole numbers as people and clients write them: ASCII digits only. `str.isdigit()` also
takes '²' and '①', which `int()` refuses, and `int()` refuses more than 4,300 digits; both
would otherwise surface as a 500 instead of a refusal naming the input."""

MAX_DIGITS = 20  # beyond any id, count or port


def whole_number(text: str, max_digits: int = MAX_DIGITS) -> int | None:
    """The number `text` (spaces around allowed) writes in ASCII digits, else None."""
    digits = text.strip()
    if not digits.isascii() or not digits.isdigit() or len(digits) > max_digits:
        return None
    return int(digits)
