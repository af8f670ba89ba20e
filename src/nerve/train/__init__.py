"""Training: :func:`fit`, :func:`evaluate`, :func:`predict`, callbacks and the History.

>>> history = nerve.fit(model, X, y, loss="cross_entropy", optimizer="sgd", lr=0.1,
...                     epochs=20, batch_size=32, validation_data=(X_val, y_val),
...                     callbacks=[EarlyStopping(patience=3)])   # doctest: +SKIP
"""
from __future__ import annotations

from .callbacks import Callback, EarlyStopping, LambdaCallback, ModelCheckpoint
from .history import History
from .loop import TrainingDivergedError, evaluate, fit, predict

__all__ = [
    "fit", "evaluate", "predict", "History", "Callback", "EarlyStopping", "ModelCheckpoint",
    "LambdaCallback", "TrainingDivergedError",
]
