"""The metrics of one session, exactly, as integers (pure; no database).

A session's duration in session units is timebox(class) / timebox(normal) x multiplier,
and (issue 11):

    n_total       = units x testers
    n_charter     = n_total x C / 100          n_opportunity = n_total x O / 100
    n_test/bug/setup = n_total x (T, B, S) / 100 x C / 100

Every value is kept as an integer numerator over the project's denominator
`denominator(timebox_normal)` = timebox_normal x 1000 x 10000: the multiplier is held
in thousandths (at most three decimals) and each percentage factor in hundredths, so
the numerators are whole numbers, sums of them are exact, and the rollups kept by
adding and subtracting them never drift. Per tester, a session's n values are divided
by its testers (exact: n_total carries the factor testers); its bug and issue counts
are shared in 1/SHARE_SCALE (every tester count up to MAX_TESTERS divides it).

Values not given: no duration class means 0 units; T/B/S not given count as 0; C/O not
given count as all on charter (C 100, O 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

N_NAMES = ("n_total", "n_charter", "n_opportunity", "n_test", "n_bug", "n_setup")
SHARE_SCALE = 720720  # lcm(1..16)
MAX_TESTERS = 16
MAX_MULTIPLIER = 10
MAX_TIMEBOX = 1440  # minutes
MULTIPLIER_SCALE = 1000


def denominator(timebox_normal: int) -> int:
    """What an n_* numerator of a project is divided by to give session units."""
    return timebox_normal * MULTIPLIER_SCALE * 10000


@dataclass(frozen=True)
class Inputs:
    """What a session's metrics depend on."""

    duration_class: str | None
    multiplier: float | None
    timeboxes: dict[str, int]  # short / normal / long -> minutes
    testers: int
    pct_test: int | None
    pct_bug: int | None
    pct_setup: int | None
    pct_charter: int | None
    pct_opportunity: int | None
    bugs: int
    issues: int


def multiplier_thousandths(multiplier: float | None) -> int:
    return MULTIPLIER_SCALE if multiplier is None else round(multiplier * MULTIPLIER_SCALE)


def numerators(i: Inputs) -> dict[str, int]:
    """The session's n_* numerators (over denominator(timeboxes['normal']))."""
    if i.duration_class is None:
        return dict.fromkeys(N_NAMES, 0)
    weight = i.timeboxes[i.duration_class] * multiplier_thousandths(i.multiplier) * i.testers
    c, o = (100, 0) if i.pct_charter is None else (i.pct_charter, i.pct_opportunity or 0)
    return {
        "n_total": weight * 10000,
        "n_charter": weight * c * 100,
        "n_opportunity": weight * o * 100,
        "n_test": weight * (i.pct_test or 0) * c,
        "n_bug": weight * (i.pct_bug or 0) * c,
        "n_setup": weight * (i.pct_setup or 0) * c,
    }


def units(i: Inputs) -> Fraction:
    """The session's duration in session units, exactly."""
    if i.duration_class is None:
        return Fraction(0)
    return Fraction(
        i.timeboxes[i.duration_class] * multiplier_thousandths(i.multiplier),
        i.timeboxes["normal"] * MULTIPLIER_SCALE,
    )


def share(count: int, testers: int) -> int:
    """One tester's share of `count` bugs or issues, in 1/SHARE_SCALE."""
    return count * SHARE_SCALE // testers if testers else 0


def as_number(numerator: int, denom: int) -> float:
    """The nearest float (int / int is correctly rounded in Python)."""
    return numerator / denom


def nearest_class(elapsed_us: int, timeboxes: dict[str, int]) -> str:
    """The duration class whose timebox is nearest the elapsed time (ties: the shorter)."""
    minutes = Fraction(elapsed_us, 60_000_000)
    return min(
        ("short", "normal", "long"), key=lambda c: (abs(timeboxes[c] - minutes), timeboxes[c])
    )
