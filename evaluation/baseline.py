"""The reference point every transformer result is shown against: TF-IDF + logistic regression.

Trained in the same run on the same training split, one-vs-rest, with its own
thresholds tuned on dev exactly as the transformer's are, so the margin between
the two is a fair one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline, make_pipeline

__all__ = ["TfidfBaseline"]


class TfidfBaseline:
    """Word and bigram TF-IDF features, balanced one-vs-rest logistic regression."""

    def __init__(self, *, seed: int = 0):
        self.pipeline: Pipeline = make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True),
            OneVsRestClassifier(LogisticRegression(max_iter=2000, class_weight="balanced", C=4.0, random_state=seed)),
        )

    def fit(self, texts: Sequence[str], targets: np.ndarray) -> TfidfBaseline:
        self.pipeline.fit(list(texts), targets.astype(int))
        return self

    def score(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self.pipeline.predict_proba(list(texts)), dtype=np.float32)
