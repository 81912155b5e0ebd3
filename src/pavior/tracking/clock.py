"""The tracking code's clock is the core's one clock (pavior.core.clock)."""

from pavior.core.clock import Clock, FakeClock, SystemClock, now, use_clock

__all__ = ["Clock", "FakeClock", "SystemClock", "now", "use_clock"]
