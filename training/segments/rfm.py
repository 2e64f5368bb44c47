"""RFM quintile scores: edges learned from the users, stored in the model, scored the serving way.

Recency is days since the last event, frequency the number of sessions, monetary the sum of
purchases (decision.sources.segment_features.RFM_FEATURES). The edges are the 20/40/60/80 %
quantiles; where many users tie (everyone who never bought has monetary 0) several edges
coincide and the tied block shares one score, so scores are not always five equal fifths.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from decision.sources.segment_features import RFM_FEATURES
from decision.sources.segment_file import RFM_QUANTILES
from decision.sources.segments import RfmEdges

_LEVELS = np.arange(1, RFM_QUANTILES) / RFM_QUANTILES


def learn_edges(values: np.ndarray) -> tuple[float, ...]:
    """The inner quintile edges of `values` (linear interpolation between order statistics)."""
    if len(values) == 0:
        raise ValueError("cannot learn RFM edges from no users")
    return tuple(float(v) for v in np.quantile(np.asarray(values, dtype=np.float64), _LEVELS))


def fit_rfm(frame: pd.DataFrame) -> RfmEdges:
    """Edges for recency, frequency and monetary from a behaviour frame's columns."""
    recency, frequency, monetary = (learn_edges(frame[name].to_numpy()) for name in RFM_FEATURES)
    return RfmEdges(recency, frequency, monetary)


def score(edges: RfmEdges, frame: pd.DataFrame) -> np.ndarray:
    """int array (users, 3): R, F, M in 1..5, the same rule as RfmEdges.scores (searchsorted
    'left' is bisect_left: a value equal to an edge scores with the values below it)."""
    recency, frequency, monetary = (frame[name].to_numpy() for name in RFM_FEATURES)
    return np.column_stack(
        [
            RFM_QUANTILES - np.searchsorted(edges.recency, recency, side="left"),
            1 + np.searchsorted(edges.frequency, frequency, side="left"),
            1 + np.searchsorted(edges.monetary, monetary, side="left"),
        ]
    ).astype(np.int64)
