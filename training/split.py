"""Temporal train / validation / test split: the model is always judged on the future."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from training.features import Dataset


@dataclass(frozen=True)
class Split:
    train: Dataset
    valid: Dataset
    test: Dataset


def cuts(times: np.ndarray, valid: float = 0.15, test: float = 0.15) -> tuple[int, int]:
    """Where validation and test start in time-ordered decision `times`.

    The cuts sit at the (1 - valid - test) and (1 - test) quantiles, moved back to the first
    decision of their instant, so no instant is split across parts.
    """
    if not 0 < valid < 1 or not 0 < test < 1 or valid + test >= 1:
        raise ValueError(f"valid ({valid}) and test ({test}) must be in (0, 1) and sum below 1")
    n = len(times)
    cut_valid = _cut(times, int(n * (1 - valid - test)))
    cut_test = _cut(times, int(n * (1 - test)))
    if not 0 < cut_valid < cut_test < n:
        raise ValueError(
            f"{n} decisions are too few to split into train/validation/test; generate or bring a larger event log"
        )
    return cut_valid, cut_test


def temporal(dataset: Dataset, valid: float = 0.15, test: float = 0.15) -> Split:
    """Cut the time-ordered decisions at `cuts`."""
    cut_valid, cut_test = cuts(dataset.meta["timestamp"].to_numpy(), valid, test)
    decisions = np.arange(len(dataset))
    return Split(
        dataset.take(decisions[:cut_valid]),
        dataset.take(decisions[cut_valid:cut_test]),
        dataset.take(decisions[cut_test:]),
    )


def _cut(times: np.ndarray, index: int) -> int:
    """The first row at or after `index` whose time differs from the row before it."""
    if index <= 0 or index >= len(times):
        return index
    return int(np.searchsorted(times, times[index], side="left"))
