"""Multivariate (factorial) experiments and segment × arm interactions: logistic regression with interactions.

Rows are collapsed to one row per (cell, outcome) with a frequency weight before the fit: the
estimates and standard errors equal those of the row-level logistic regression, and a table
of millions of decisions fits in milliseconds. Factor and level names are replaced by safe
codes in the formula (names from JSON may contain anything) and restored in the output.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats

_TERM = re.compile(r"C\((f\d+)\)\[T\.(l\d+)\]")


@dataclass(frozen=True)
class LikelihoodRatioTest:
    """Full model against the model without the tested terms; small p: the terms matter."""

    statistic: float
    df: int
    p_value: float


@dataclass(frozen=True)
class FactorialAnalysis:
    """`effects`: the model with interactions (with treatment coding a "main" term is the factor's
    effect at the reference levels of the others). `main_effects`: the additive model, whose terms
    are each factor's effect averaged over the others; read them when the interaction test is
    not significant."""

    factors: tuple[str, ...]
    effects: pd.DataFrame
    main_effects: pd.DataFrame
    interaction_test: LikelihoodRatioTest


@dataclass(frozen=True)
class SegmentInteraction:
    """Does the arm's effect differ between segments? `dropped` lists segments left out because some
    arm had only successes or only failures there (no finite estimate)."""

    test: LikelihoodRatioTest
    segments: tuple[str, ...]
    dropped: tuple[str, ...]


class _Coded:
    """The frame collapsed to weighted cells, with factor and level names replaced by codes."""

    def __init__(
        self, frame: pd.DataFrame, factors: Sequence[str], outcome: str, references: Mapping[str, str]
    ) -> None:
        self.labels: dict[str, str] = {}
        data: dict[str, object] = {}
        for i, factor in enumerate(factors):
            levels = sorted(frame[factor].astype(str).unique())
            reference = references.get(factor, levels[0])
            if reference not in levels:
                raise ValueError(
                    f"reference level {reference!r} of factor {factor!r} not in the data; levels: {levels}"
                )
            ordered = [reference, *(level for level in levels if level != reference)]
            codes = {level: f"l{j}" for j, level in enumerate(ordered)}
            self.labels.update({f"f{i}:{code}": f"{factor}={level}" for level, code in codes.items()})
            data[f"f{i}"] = pd.Categorical(frame[factor].astype(str).map(codes), categories=list(codes.values()))
        data["y"] = frame[outcome].astype(np.int64).to_numpy()
        columns = [*(f"f{i}" for i in range(len(factors))), "y"]
        self.cells = pd.DataFrame(data).groupby(columns, observed=True).size().rename("weight").reset_index()
        self.terms = [f"C(f{i})" for i in range(len(factors))]

    def fit(self, joiner: str) -> sm.GLM:
        formula = "y ~ " + joiner.join(self.terms)
        model = smf.glm(formula, data=self.cells, family=sm.families.Binomial(), freq_weights=self.cells["weight"])
        return model.fit()

    def readable(self, term: str) -> str:
        return " × ".join(self.labels[f"{f}:{level}"] for f, level in _TERM.findall(term)) or term


def _lr_test(full: sm.GLM, reduced: sm.GLM) -> LikelihoodRatioTest:
    statistic = max(2.0 * float(full.llf - reduced.llf), 0.0)
    df = round(float(full.df_model - reduced.df_model))
    return LikelihoodRatioTest(statistic, df, float(stats.chi2.sf(statistic, df)) if df > 0 else 1.0)


def _coefficients(result: sm.GLM, coded: _Coded, alpha: float) -> pd.DataFrame:
    intervals = result.conf_int(alpha)
    terms = [term for term in result.params.index if term != "Intercept"]
    return pd.DataFrame(
        {
            "term": [coded.readable(term) for term in terms],
            "kind": ["interaction" if ":" in term else "main" for term in terms],
            "coefficient": [float(result.params[term]) for term in terms],
            "odds_ratio": [float(np.exp(result.params[term])) for term in terms],
            "or_low": [float(np.exp(intervals.loc[term, 0])) for term in terms],
            "or_high": [float(np.exp(intervals.loc[term, 1])) for term in terms],
            "p_value": [float(result.pvalues[term]) for term in terms],
        }
    )


def _check_cells(frame: pd.DataFrame, factors: Sequence[str], outcome: str) -> None:
    rates = frame.groupby(list(factors), observed=True)[outcome].mean()
    flat = rates[(rates == 0) | (rates == 1)]
    if len(flat):
        cell = ", ".join(f"{f}={v}" for f, v in zip(factors, np.atleast_1d(flat.index[0]), strict=True))
        raise ValueError(
            f"cell {cell} has only {'successes' if flat.iloc[0] == 1 else 'failures'}: the interaction model has no "
            "finite estimate there; collect more data or merge levels"
        )


def analyze_factorial(
    frame: pd.DataFrame,
    factors: Sequence[str],
    outcome: str = "y",
    references: Mapping[str, str] | None = None,
    alpha: float = 0.05,
) -> FactorialAnalysis:
    """Logistic regression `y ~ C(a) * C(b) * ...` on a frame with one column per factor and a 0/1 outcome,
    and the likelihood-ratio test of all interaction terms together (against `y ~ C(a) + C(b) + ...`)."""
    missing = [column for column in (*factors, outcome) if column not in frame.columns]
    if missing:
        raise ValueError(f"columns {missing} not in the frame; it has {list(frame.columns)}")
    if len(factors) < 2:
        raise ValueError(f"a factorial analysis needs at least 2 factors, got {list(factors)}")
    _check_cells(frame, factors, outcome)
    coded = _Coded(frame, factors, outcome, references or {})
    full, additive = coded.fit(" * "), coded.fit(" + ")
    return FactorialAnalysis(
        factors=tuple(factors),
        effects=_coefficients(full, coded, alpha),
        main_effects=_coefficients(additive, coded, alpha),
        interaction_test=_lr_test(full, additive),
    )


def segment_interaction(
    frame: pd.DataFrame, control_arm: str, outcome: str = "y", arm: str = "arm", segment: str = "segment"
) -> SegmentInteraction:
    """LR test of `y ~ C(arm) * C(segment)` against `y ~ C(arm) + C(segment)`."""
    rates = frame.groupby([segment, arm], observed=True)[outcome].mean().reset_index()
    flat_segments = set(rates.loc[rates[outcome].isin([0, 1]), segment].astype(str))
    kept = frame[~frame[segment].astype(str).isin(flat_segments)]
    segments = tuple(sorted(kept[segment].astype(str).unique()))
    if len(segments) < 2:
        return SegmentInteraction(LikelihoodRatioTest(0.0, 0, 1.0), segments, tuple(sorted(flat_segments)))
    coded = _Coded(kept, [arm, segment], outcome, {arm: control_arm})
    return SegmentInteraction(_lr_test(coded.fit(" * "), coded.fit(" + ")), segments, tuple(sorted(flat_segments)))
