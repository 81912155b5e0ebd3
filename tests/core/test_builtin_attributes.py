from __future__ import annotations

from pavior.core.attributes import BUILTINS, LIVE_NAMES, AttrType, Trust, builtin

ALL = frozenset(Trust)
SERVER = frozenset({Trust.SECRET, Trust.IMPORT})
NOBODY: frozenset[Trust] = frozenset()


def test_the_19_builtins_in_spec_table_order_with_rendered_names_and_types() -> None:
    assert [(a.name, a.rendered_name, a.type) for a in BUILTINS.values()] == [
        ("id", "Id", AttrType.STRING),
        ("email", "Email", AttrType.STRING),
        ("name", "Name", AttrType.STRING),
        ("first_name", "First name", AttrType.STRING),
        ("last_name", "Last name", AttrType.STRING),
        ("phone", "Phone", AttrType.STRING),
        ("city", "City", AttrType.STRING),
        ("country", "Country", AttrType.STRING),
        ("total_visits", "Total visits", AttrType.NUMBER),
        ("last_seen_at", "Last seen", AttrType.DATE),
        ("last_activity_at", "Last activity", AttrType.DATE),
        ("first_known_at", "First known of", AttrType.DATE),
        ("signed_up_at", "Signed up on", AttrType.DATE),
        ("email_subscription", "Email subscription", AttrType.BOOLEAN),
        ("total_time_spent", "Total time spent", AttrType.NUMBER),
        ("time_on_current_page", "Time on current page", AttrType.NUMBER),
        ("current_page_url", "Current page URL", AttrType.STRING),
        ("current_session_duration", "Current session duration", AttrType.NUMBER),
        ("interacted_in_current_session", "Interacted in current session", AttrType.BOOLEAN),
    ]
    assert all(a.builtin and not a.archived for a in BUILTINS.values())


def test_who_may_write_each_builtin() -> None:
    writers = {n: a.writable_by for n, a in BUILTINS.items()}
    for name in ("id", "email", "name", "first_name", "last_name", "phone"):
        assert writers[name] == ALL, name
    for name in ("city", "country", "first_known_at", "signed_up_at", "email_subscription"):
        assert writers[name] == SERVER, name
    read_only = {"total_visits", "last_seen_at", "last_activity_at", "total_time_spent"}
    for name in read_only | LIVE_NAMES:
        assert writers[name] == NOBODY, name
        assert BUILTINS[name].read_only and not BUILTINS[name].browser_writable


def test_exactly_four_live_attributes() -> None:
    assert LIVE_NAMES == {
        "time_on_current_page",
        "current_page_url",
        "current_session_duration",
        "interacted_in_current_session",
    }
    assert {n for n, a in BUILTINS.items() if a.live} == LIVE_NAMES


def test_builtin_lookup() -> None:
    assert builtin("email") is BUILTINS["email"]
    assert builtin("plan") is None
    assert builtin("Email") is None
