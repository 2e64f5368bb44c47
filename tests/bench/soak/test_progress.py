"""Claiming work: targets are never exceeded, quarter marks are taken, lockstep holds a load back."""

from __future__ import annotations

from bench.soak.progress import Progress


def test_claims_stop_at_the_target_and_marks_every_quarter() -> None:
    progress = Progress({"decisions": 10}, lockstep=True, clock_zero=0.0)
    granted = []
    while amount := progress.claim("decisions", 4):
        granted.append(amount)
        progress.done("decisions", amount)
    assert granted == [4, 4, 2]
    assert progress.counts() == {"decisions": 10}
    marks = progress.marks("decisions")
    assert len(marks) == 5  # the start, then 25, 50, 75 and 100 %
    assert marks == sorted(marks)


def test_in_lockstep_a_load_ahead_waits_until_the_others_catch_up_or_finish() -> None:
    progress = Progress({"fast": 100, "slow": 10}, lockstep=True, clock_zero=0.0)
    progress.done("fast", progress.claim("fast", 50))  # 50 % while "slow" is at 0 %
    assert progress.ahead("fast")
    assert not progress.ahead("slow")
    progress.done("slow", progress.claim("slow", 5))  # both at 50 %
    assert not progress.ahead("fast")
    progress.done("fast", progress.claim("fast", 40))
    assert progress.ahead("fast")
    progress.finish("slow")  # gave up or done: nobody waits for it
    assert not progress.ahead("fast")
    assert progress.claim("fast", 20) == 10


def test_free_running_loads_never_wait() -> None:
    progress = Progress({"fast": 100, "slow": 10}, lockstep=False, clock_zero=0.0)
    progress.done("fast", progress.claim("fast", 90))
    assert progress.claim("fast", 10) == 10


def test_abort_gives_every_load_nothing_more() -> None:
    progress = Progress({"decisions": 100}, lockstep=True, clock_zero=0.0)
    progress.abort()
    assert progress.claim("decisions", 10) == 0
