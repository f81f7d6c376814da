"""When the in-process worker yields the core to the receiving side."""

from __future__ import annotations

from hookgram.core_share import ARRIVALS_WINDOW, SATURATED_LAG, YIELD_HOLD, CoreShare


class TestCoreShare:
    def test_full_concurrency_when_quiet(self) -> None:
        """With no requests arriving, a late wake-up (busy handlers) does not hold the worker."""
        share = CoreShare()
        share.slept(lag=1.0, now=100.0)
        assert share.limit(64, now=100.0) == 64

    def test_full_concurrency_when_the_loop_keeps_up(self) -> None:
        """Requests arriving while the loop keeps time (I/O-bound handlers) hold nothing back."""
        share = CoreShare()
        share.arrived(now=100.0)
        share.slept(lag=SATURATED_LAG / 2, now=100.0)
        assert share.limit(64, now=100.0) == 64

    def test_fewer_slots_while_arriving_and_saturated(self) -> None:
        """Requests arriving on a saturated loop cut the worker to half its slots."""
        share = CoreShare()
        share.arrived(now=100.0)
        share.slept(lag=SATURATED_LAG * 4, now=100.1)
        assert share.limit(64, now=100.2) == 32
        assert share.limit(1, now=100.2) == 1

    def test_yield_holds_then_ends(self) -> None:
        """A decision to yield holds for a while (no flapping), then full concurrency returns."""
        share = CoreShare()
        share.arrived(now=100.0)
        share.slept(lag=1.0, now=100.0)
        assert share.yielding(now=100.0 + YIELD_HOLD / 2)
        assert share.limit(64, now=100.0 + YIELD_HOLD + 0.01) == 64

    def test_old_arrivals_do_not_count(self) -> None:
        """Requests that stopped arriving a while ago (the burst is over) do not hold it back."""
        share = CoreShare()
        share.arrived(now=100.0)
        share.slept(lag=1.0, now=100.0 + ARRIVALS_WINDOW + 0.1)
        assert share.limit(64, now=100.0 + ARRIVALS_WINDOW + 0.1) == 64
