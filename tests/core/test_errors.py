from __future__ import annotations

import pytest

from pavior.core import errors as E


@pytest.mark.parametrize(
    ("cls", "code", "status"),
    [
        (E.PaviorError, "invalid", 422),
        (E.InvalidName, "invalid_name", 422),
        (E.InvalidType, "invalid_type", 422),
        (E.InvalidValue, "invalid_value", 422),
        (E.ReadOnlyAttribute, "read_only_attribute", 422),
        (E.UnknownAttribute, "unknown_attribute", 422),
        (E.LiveAttribute, "live_attribute", 422),
        (E.InvalidFilter, "invalid_filter", 422),
        (E.LimitExceeded, "limit_exceeded", 422),
        (E.NotFound, "not_found", 404),
        (E.Conflict, "conflict", 409),
    ],
)
def test_each_error_has_its_code_and_status(
    cls: type[E.PaviorError], code: str, status: int
) -> None:
    err = cls("something is wrong", field="plan")
    assert (err.code, err.status, err.field, err.message) == (
        code,
        status,
        "plan",
        "something is wrong",
    )
    assert str(err) == "something is wrong"
    assert isinstance(err, E.PaviorError)


def test_code_can_be_overridden_per_error_without_changing_the_class() -> None:
    err = E.Conflict("taken", code="name_taken")
    assert err.code == "name_taken"
    assert E.Conflict("x").code == "conflict"
    assert E.Conflict("x").field is None


def test_show_value_quotes_truncates_and_never_raises() -> None:
    assert E.show_value("abc") == '"abc"'
    assert E.show_value('say "hi"') == '"say \\"hi\\""'
    assert E.show_value("x" * 100) == '"' + "x" * 60 + '…"'
    assert E.show_value([1, 2]) == "[1, 2]"
    assert E.show_value(10**5000) == "a very large number"
