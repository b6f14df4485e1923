"""Built-in input validators for `input` screens.

YAML names one with `validate: name` or, with arguments, `validate: {digits: {length: 4}}`.
A validator cleans a valid answer (the saved value) or names a messages.yaml error key.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from gateway.flows.model import InputSpec

# People may type Devanagari or Bengali digits; the engine always saves ASCII digits.
_NATIVE_DIGITS = str.maketrans(
    {**{0x0966 + i: str(i) for i in range(10)}, **{0x09E6 + i: str(i) for i in range(10)}}
)
MAX_AGE = 120


@dataclass(frozen=True)
class Verdict:
    """Result of validating one answer: a cleaned `value`, or an `error` message key."""

    value: str | None = None
    error: str | None = None
    error_vars: dict[str, Any] = field(default_factory=dict)


def _digits(raw: str) -> str:
    """The answer with surrounding spaces removed and native digits made ASCII."""
    return raw.strip().translate(_NATIVE_DIGITS)


def _is_ascii_digits(text: str) -> bool:
    """True for a non-empty run of 0-9."""
    return text.isascii() and text.isdigit()


class Validator:
    """Base: subclasses implement check(); the rest describes the expected input."""

    errors: tuple[str, ...] = ()

    def check(self, raw: str, args: dict[str, Any], vars: dict[str, Any]) -> Verdict:
        """Validate one answer."""
        raise NotImplementedError

    def input_spec(self, args: dict[str, Any]) -> InputSpec:
        """What the channel should collect."""
        raise NotImplementedError

    def arg_errors(self, args: dict[str, Any]) -> list[str]:
        """Problems with the YAML arguments (none accepted by default)."""
        return [f"unexpected argument '{name}'" for name in args]

    def error_vars(self, args: dict[str, Any]) -> dict[str, Any]:
        """Vars the error messages use besides session vars."""
        return {}


class NameValidator(Validator):
    """A person's name: 2-40 letters (any script), spaces, dots, apostrophes."""

    errors = ("error.invalid_name",)

    def check(self, raw: str, args: dict[str, Any], vars: dict[str, Any]) -> Verdict:
        name = " ".join(raw.split())
        letters = sum(1 for ch in name if unicodedata.category(ch)[0] in "LM")
        allowed = all(ch in " .'" or unicodedata.category(ch)[0] in "LM" for ch in name)
        if not allowed or letters < 2 or len(name) > 40:
            return Verdict(error=self.errors[0])
        return Verdict(value=" ".join(_title_word(word) for word in name.split(" ")))

    def input_spec(self, args: dict[str, Any]) -> InputSpec:
        return InputSpec("text", 2, 40)


def _title_word(word: str) -> str:
    """Title-case a Latin word typed all in one case ("SITA" -> "Sita"); leave others alone."""
    if word.isascii() and (word.islower() or word.isupper()):
        return word.title()
    return word


class BirthYearValidator(Validator):
    """A 4-digit birth year: not in the future, at most 120 years ago, age >= min_age.

    Age is counted by year of birth only (today's year minus birth year), as CoWIN did.
    """

    errors = ("error.invalid_year", "error.not_eligible")

    def check(self, raw: str, args: dict[str, Any], vars: dict[str, Any]) -> Verdict:
        text = _digits(raw)
        this_year = dt.date.fromisoformat(str(vars["today"])).year
        if not (_is_ascii_digits(text) and len(text) == 4):
            return Verdict(error="error.invalid_year")
        year = int(text)
        if year > this_year or year < this_year - MAX_AGE:
            return Verdict(error="error.invalid_year")
        if this_year - year < int(vars.get("min_age", 18)):
            return Verdict(error="error.not_eligible")
        return Verdict(value=text)

    def input_spec(self, args: dict[str, Any]) -> InputSpec:
        return InputSpec("digits", 4, 4)


class DigitsValidator(Validator):
    """Only digits: exactly `length` of them, or between `min` and `max` of them."""

    errors = ("error.digits_length", "error.digits_range")

    def check(self, raw: str, args: dict[str, Any], vars: dict[str, Any]) -> Verdict:
        text = _digits(raw)
        spec = self.input_spec(args)
        if _is_ascii_digits(text) and spec.min_len <= len(text) <= spec.max_len:
            return Verdict(value=text)
        key = "error.digits_length" if "length" in args else "error.digits_range"
        return Verdict(error=key, error_vars=self.error_vars(args))

    def input_spec(self, args: dict[str, Any]) -> InputSpec:
        if "length" in args:
            return InputSpec("digits", int(args["length"]), int(args["length"]))
        return InputSpec("digits", int(args["min"]), int(args["max"]))

    def arg_errors(self, args: dict[str, Any]) -> list[str]:
        keys = set(args)
        if keys not in ({"length"}, {"min", "max"}):
            return ["needs either 'length' or both 'min' and 'max'"]
        if not all(isinstance(value, int) and value > 0 for value in args.values()):
            return ["arguments must be positive integers"]
        if keys == {"min", "max"} and args["min"] > args["max"]:
            return ["'min' is greater than 'max'"]
        return []

    def error_vars(self, args: dict[str, Any]) -> dict[str, Any]:
        return dict(args)


class PincodeValidator(Validator):
    """An Indian postal PIN code: 6 digits, the first one 1-9."""

    errors = ("error.invalid_pincode",)

    def check(self, raw: str, args: dict[str, Any], vars: dict[str, Any]) -> Verdict:
        text = _digits(raw)
        if _is_ascii_digits(text) and len(text) == 6 and text[0] != "0":
            return Verdict(value=text)
        return Verdict(error=self.errors[0])

    def input_spec(self, args: dict[str, Any]) -> InputSpec:
        return InputSpec("digits", 6, 6)


class ReferenceValidator(Validator):
    """An appointment reference such as K7QP3M: 6 letters/digits, saved in capitals."""

    errors = ("error.invalid_reference",)

    def check(self, raw: str, args: dict[str, Any], vars: dict[str, Any]) -> Verdict:
        text = _digits(raw).upper()
        if text.isascii() and text.isalnum() and len(text) == 6:
            return Verdict(value=text)
        return Verdict(error=self.errors[0])

    def input_spec(self, args: dict[str, Any]) -> InputSpec:
        return InputSpec("text", 6, 6)


VALIDATORS: dict[str, Validator] = {
    "name": NameValidator(),
    "birth_year": BirthYearValidator(),
    "digits": DigitsValidator(),
    "pincode": PincodeValidator(),
    "reference": ReferenceValidator(),
}
