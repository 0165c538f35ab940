"""The training schedule (synthgap.models.training.Schedule): rate multipliers and stopping rules."""

from __future__ import annotations

import pytest

from synthgap.errors import UsageError
from synthgap.models.training import Plateau, Schedule


def test_plateau_drops_the_rate_then_stops():
    s = Schedule(None, None, Plateau(patience=2, factor=0.5, drops=1, warmup_steps=0, max_steps=1000))
    assert s.observe(0.5, 1.0) and s.factor(10, 0) == 1.0
    s.observe(0.5, 1.0)
    s.observe(0.5, 1.0)  # two validations without progress: the first drop
    assert s.factor(10, 0) == 0.5 and s.stop_reason is None
    assert s.observe(0.6, 0.9)  # progress resets the count
    s.observe(0.6, 0.9)
    s.observe(0.6, 0.9)  # the plateau after the last drop ends training
    assert s.stop_reason == "plateau" and s.done(11, 0)


def test_a_falling_loss_is_progress_while_no_string_is_right():
    s = Schedule(None, None, Plateau(patience=1, drops=0, min_loss_drop=0.03, warmup_steps=0, max_steps=9))
    s.observe(0.0, 10.0)
    s.observe(0.0, 9.5)  # 5 % lower: progress
    assert s.stop_reason is None
    s.observe(0.0, 9.4)  # 1 %: not enough
    assert s.stop_reason == "plateau"


def test_anneal_decays_the_rate_over_the_last_part_of_the_cap():
    s = Schedule(None, None, Plateau(warmup_steps=0, max_steps=100, anneal=0.2))
    assert s.factor(50, 0) == 1.0 and s.factor(80, 0) == 1.0
    assert s.factor(90, 0) == pytest.approx(0.51) and s.factor(100, 0) == pytest.approx(0.02)
    timed = Schedule(None, None, Plateau(warmup_steps=0, max_minutes=10, anneal=0.5))
    assert timed.factor(1, 60) == 1.0 and timed.factor(1, 450) == pytest.approx(0.51)
    assert Schedule(None, None, Plateau(warmup_steps=0, max_steps=100)).factor(99, 0) == 1.0
    assert not timed.done(1, 599) and timed.done(1, 600) and timed.stop_reason == "cap"


@pytest.mark.parametrize("bad", [{"anneal": 1.0}, {"anneal": -0.1}, {"factor": 1.0}, {"max_steps": 0}])
def test_bad_plateau_settings_name_the_field(bad):
    with pytest.raises(UsageError, match=f"plateau.{next(iter(bad))}"):
        Plateau(**{"max_minutes": 1.0, **bad})
