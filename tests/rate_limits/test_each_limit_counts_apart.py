"""Each limit keeps its own count per subject; 0 turns one limit off and
PAVIOR_RATE_LIMITS=false all of them; Retry-After is the rest of the window."""

from __future__ import annotations

from typing import Any

from pavior import rate_limits as limits


def test_limits_count_apart(rate_limits: Any) -> None:
    rate_limits.PAVIOR_RATE_LIMIT_SIGN_IN_PER_ADDRESS = 2
    rate_limits.PAVIOR_RATE_LIMIT_UNSUBSCRIBE_PER_ADDRESS = 2
    assert [limits.check_sign_in("198.51.100.1") for _ in range(2)] == [0, 0]
    assert limits.check_sign_in("198.51.100.1") > 0
    # The same address is not limited elsewhere, nor another address here.
    assert limits.check_unsubscribe("198.51.100.1") == 0
    assert limits.check_sign_in("198.51.100.2") == 0


def test_retry_after_is_the_rest_of_the_window(rate_limits: Any) -> None:
    import time

    rate_limits.PAVIOR_RATE_LIMIT_API_PER_KEY = 1
    rate_limits.PAVIOR_RATE_LIMIT_WINDOW = 600
    assert limits.check_api_key("sk_a") == 0
    wait = limits.check_api_key("sk_a")
    left = 600 - time.time() % 600
    assert left - 1 <= wait <= left + 1


def test_zero_turns_a_limit_off_and_the_switch_all_of_them(rate_limits: Any) -> None:
    rate_limits.PAVIOR_RATE_LIMIT_TRACKING_PER_KEY = 0
    rate_limits.PAVIOR_RATE_LIMIT_TRACKING_PER_ADDRESS = 1
    assert limits.check_tracking("app_a", "198.51.100.1") == 0
    assert limits.check_tracking("app_a", "198.51.100.1") > 0  # the address limit holds
    assert limits.check_tracking("app_a", "198.51.100.2") == 0  # the key limit is off
    rate_limits.PAVIOR_RATE_LIMITS = False
    assert limits.check_tracking("app_a", "198.51.100.1") == 0


def test_the_counter_files_behave_as_a_cache(tmp_path: Any) -> None:
    from pavior.counter_cache import CounterFileCache

    cache = CounterFileCache(str(tmp_path / "counters"), {})
    assert cache.get("a") is None and cache.incr_or_start("a", 60) == 1
    assert cache.incr_or_start("a", 60) == 2 and cache.get("a") == 2
    assert cache.add("a", 10) is False and cache.add("b", 10) is True
    assert cache.incr("b", 5) == 15
    cache.set("c", 1, timeout=-1)  # already expired
    assert cache.get("c") is None and not cache.has_key("c")
    assert cache.delete("a") and cache.get("a") is None
    cache.clear()
    assert cache.get("b") is None
