from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from pavior.core.attributes import AttributeDef, Trust
from pavior.core.errors import InvalidValue, PaviorError, ReadOnlyAttribute, UnknownAttribute
from pavior.core.profile import prepare_write

Lookup = Callable[[str], AttributeDef | None]


def error(lookup: Lookup, values: dict[str, object], trust: Trust = Trust.SECRET) -> PaviorError:
    with pytest.raises(PaviorError) as info:
        prepare_write(values, lookup, trust=trust)
    return info.value


def test_values_are_coerced_and_none_or_empty_clears(lookup: Lookup) -> None:
    result = prepare_write(
        {
            "plan": "pro",
            "plan_price": "49",
            "renewal_on": "2024-05-01",
            "is_active_affiliate": "yes",
            "phone": None,
            "email": "",
        },
        lookup,
        trust=Trust.BROWSER,
    )
    assert result == {
        "plan": "pro",
        "plan_price": 49,
        "renewal_on": datetime(2024, 5, 1, tzinfo=UTC),
        "is_active_affiliate": True,
        "phone": None,
        "email": None,
    }


def test_unknown_attribute_must_be_created_first(lookup: Lookup) -> None:
    err = error(lookup, {"plna": "pro"})
    assert isinstance(err, UnknownAttribute)
    assert err.field == "plna" and err.status == 422
    assert "plna" in err.message and "create it first" in err.message


@pytest.mark.parametrize("name", ["current_page_url", "time_on_current_page"])
def test_live_attributes_cannot_be_written(lookup: Lookup, name: str) -> None:
    err = error(lookup, {name: 1})
    assert isinstance(err, ReadOnlyAttribute)
    assert err.field == name and name in err.message and "live" in err.message


@pytest.mark.parametrize("trust", list(Trust))
def test_read_only_builtins_are_refused_for_everyone(lookup: Lookup, trust: Trust) -> None:
    err = error(lookup, {"total_visits": 3}, trust)
    assert isinstance(err, ReadOnlyAttribute)
    assert err.message == "total_visits is read-only"
    assert err.field == "total_visits"


def test_browser_cannot_write_server_only_attributes(lookup: Lookup) -> None:
    for name, value in [
        ("signed_up_at", "2024-05-01"),
        ("email_subscription", True),
        ("tier", "gold"),
    ]:
        err = error(lookup, {name: value}, Trust.BROWSER)
        assert isinstance(err, ReadOnlyAttribute)
        assert err.message == f"{name} cannot be written from the browser"
    assert prepare_write({"tier": "gold"}, lookup, trust=Trust.SECRET) == {"tier": "gold"}


def test_only_server_trust_may_seed_city_and_country(lookup: Lookup) -> None:
    for name in ("city", "country"):
        err = error(lookup, {name: "Paris"}, Trust.BROWSER)
        assert isinstance(err, ReadOnlyAttribute), name
        assert err.field == name
    for trust in (Trust.IMPORT, Trust.SECRET):
        seeded = prepare_write({"city": "Paris", "country": "FR"}, lookup, trust=trust)
        assert seeded == {"city": "Paris", "country": "FR"}


def test_archived_attribute_is_refused_saying_so(lookup: Lookup) -> None:
    err = error(lookup, {"old_plan": "x"})
    assert isinstance(err, UnknownAttribute)
    assert "archived" in err.message and err.field == "old_plan"


def test_bad_value_names_attribute_type_and_value(lookup: Lookup) -> None:
    err = error(lookup, {"plan_price": "abc"})
    assert isinstance(err, InvalidValue)
    assert err.message == 'Attribute "plan_price" is a number; "abc" is not a number'


def test_the_first_problem_in_key_order_is_raised(lookup: Lookup) -> None:
    assert error(lookup, {"plan_price": "abc", "nope": 1}).field == "plan_price"
    assert error(lookup, {"nope": 1, "plan_price": "abc"}).field == "nope"


def test_options_reach_coercion(lookup: Lookup) -> None:
    assert prepare_write(
        {"renewal_on": "03/04/2024"}, lookup, trust=Trust.IMPORT, day_first=True
    ) == {"renewal_on": datetime(2024, 4, 3, tzinfo=UTC)}
    with pytest.raises(InvalidValue, match="5-character limit"):
        prepare_write({"plan": "abcdef"}, lookup, trust=Trust.SECRET, max_string_length=5)
