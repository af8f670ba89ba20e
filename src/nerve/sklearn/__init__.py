"""scikit-learn estimators backed by nerve (optional extra: ``pip install 'nerve[sklearn]'``).

``MLPClassifier`` and ``MLPRegressor`` take scikit-learn's MLP parameter names and
add what scikit-learn's MLP lacks: per-layer activations (any nerve activation or
Maxout), dropout, batch normalisation, the hinge loss, L1/L2/elastic-net
penalties, every nerve optimizer and learning-rate schedule, and nerve callbacks.
They pass ``sklearn.utils.estimator_checks.check_estimator`` with their default
parameters and work in ``Pipeline``, ``GridSearchCV`` and ``cross_val_score``. As
scikit-learn's MLP, the default ``dtype="auto"`` computes in float64 for float64 X (about
1.7× slower than float32 and twice the memory); any other X (float32, integers, lists)
trains in float32, nerve's default (``dtype="float32"`` or ``"float64"`` fixes it).

>>> from nerve.sklearn import MLPClassifier
>>> clf = MLPClassifier(hidden_layer_sizes=(64,), activation="elu", dropout=0.1,
...                     solver="adam", random_state=0)      # doctest: +SKIP
"""
from __future__ import annotations

from .._extras import require

require("sklearn.base", "sklearn", "the scikit-learn estimators (nerve.sklearn)")

from .classifier import MLPClassifier  # noqa: E402
from .regressor import MLPRegressor  # noqa: E402

__all__ = ["MLPClassifier", "MLPRegressor"]
