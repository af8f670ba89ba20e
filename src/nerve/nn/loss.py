"""Loss layers: ``loss_fn(scores, targets)`` → a scalar tensor; twins of :mod:`nerve.losses`.

``LOSSES`` maps names to classes and :func:`get_loss` builds one by name.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import losses as F
from ..tensor import Tensor
from .module import Module
from ..registry import lookup


class _Loss(Module):
    #: the options the loss takes, as the message about others names them
    _takes = "reduction only"

    def __init__(self, reduction: str = "mean", **unsupported: Any):
        super().__init__()
        if unsupported:  # PyTorch's weight=, size_average=, ...: the functions' message
            F.reject_options(type(self).__name__, unsupported, self._takes)
        self.reduction = F._check_reduction(type(self).__name__, reduction)

    def __call__(self, input: Any, target: Any) -> Tensor:  # noqa: A002 - PyTorch's name
        return self.forward(input, target)

    def get_config(self) -> dict[str, Any]:
        return {"reduction": self.reduction}


class MSELoss(_Loss):
    """L = (1/n) Σ (ŷ − y)² (``reduction="sum"``: Σ (ŷ − y)²);  dL/dŷ = 2(ŷ − y)/n."""

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        return F.mse(input, target, self.reduction)


class L1Loss(_Loss):
    """Mean absolute error: L = (1/n) Σ |ŷ − y|;  dL/dŷ = sign(ŷ − y)/n."""

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        return F.l1_loss(input, target, self.reduction)


class SmoothL1Loss(_Loss):
    """Smooth L1: ½d²/β where |d| < β, else |d| − ½β (d = ŷ − y);  dL/dd = d/β, else sign(d)."""

    _takes = "reduction and beta"

    def __init__(self, reduction: str = "mean", beta: float = 1.0, **unsupported: Any):
        super().__init__(reduction, **unsupported)
        self.beta = F.check_threshold("SmoothL1Loss", "beta", beta, positive=False)

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        return F.smooth_l1_loss(input, target, self.reduction, self.beta)

    def get_config(self) -> dict[str, Any]:
        return {"reduction": self.reduction, "beta": self.beta}


class HuberLoss(_Loss):
    """Huber: ½d² where |d| < δ, else δ(|d| − ½δ) (d = ŷ − y);  dL/dd = d, else δ·sign(d)."""

    _takes = "reduction and delta"

    def __init__(self, reduction: str = "mean", delta: float = 1.0, **unsupported: Any):
        super().__init__(reduction, **unsupported)
        self.delta = F.check_threshold("HuberLoss", "delta", delta, positive=True)

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        return F.huber_loss(input, target, self.reduction, self.delta)

    def get_config(self) -> dict[str, Any]:
        return {"reduction": self.reduction, "delta": self.delta}


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy on raw scores (N, C) and integer labels (N,), or class
    probabilities (N, C) (float, one-hot or soft) as PyTorch.

    Lᵢ = −log softmax(sᵢ)_yᵢ (stable log-sum-exp);  dL/ds = (softmax − onehot) / N
    (probabilities T: Lᵢ = −Σ_c Tᵢc·log softmax(sᵢ)_c). PyTorch's ``weight`` (one per
    class), ``ignore_index`` and ``label_smoothing`` work as there (see
    :func:`nerve.losses.cross_entropy`), and so do scores (N, C, d₁, …) with labels
    (N, d₁, …): one loss per position, the mean over all positions.
    """

    _takes = F._CROSS_ENTROPY_TAKES

    def __init__(self, reduction: str = "mean", *, weight: Any = None, ignore_index: int = -100,
                 label_smoothing: float = 0.0, **unsupported: Any):
        super().__init__(reduction, **unsupported)  # a weight in PyTorch's place: TypeError
        w, self.ignore_index, self.label_smoothing = F.check_cross_entropy_options(
            "CrossEntropyLoss", weight, ignore_index, label_smoothing)
        self.weight = None if w is None else w.astype(np.float64)

    @property
    def plain(self) -> bool:
        """No class weights, no label smoothing, the default ignore_index (what the
        captured step computes)."""
        return self.weight is None and not self.label_smoothing and self.ignore_index < 0

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        if self.weight is None and not self.label_smoothing and self.ignore_index == -100:
            return F.cross_entropy(input, target, self.reduction)
        return F.cross_entropy(input, target, self.reduction, weight=self.weight,
                               ignore_index=self.ignore_index,
                               label_smoothing=self.label_smoothing)

    def get_config(self) -> dict[str, Any]:
        config = _class_options(self)
        if self.label_smoothing:
            config["label_smoothing"] = self.label_smoothing
        return config


class NLLLoss(_Loss):
    """Negative log-likelihood on log-probabilities (N, C), e.g. after ``nn.LogSoftmax``:
    Lᵢ = −log pᵢ,yᵢ;  dL/d(log p) = −onehot / N. LogSoftmax + NLLLoss = CrossEntropyLoss,
    with the same options.

    PyTorch's ``weight`` w (one per class): Lᵢ = −w_yᵢ·log pᵢ,yᵢ, the mean divided by
    Σᵢ w_yᵢ; labels equal to ``ignore_index`` (default −100) count for nothing (see
    :func:`nerve.losses.nll_loss`). Log-probabilities (N, C, d₁, …) with labels (N, d₁, …)
    give one loss per position, as PyTorch.
    """

    _takes = F._NLL_TAKES

    def __init__(self, reduction: str = "mean", *, weight: Any = None, ignore_index: int = -100,
                 **unsupported: Any):
        super().__init__(reduction, **unsupported)
        w, self.ignore_index, _ = F.check_cross_entropy_options("NLLLoss", weight, ignore_index,
                                                                0.0)
        self.weight = None if w is None else w.astype(np.float64)

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        if self.weight is None and self.ignore_index == -100:
            return F.nll_loss(input, target, self.reduction)
        return F.nll_loss(input, target, self.reduction, weight=self.weight,
                          ignore_index=self.ignore_index)

    def get_config(self) -> dict[str, Any]:
        return _class_options(self)


def _class_options(loss: _Loss) -> dict[str, Any]:
    """The config of a loss with PyTorch's ``weight`` and ``ignore_index`` (the defaults left out)."""
    config: dict[str, Any] = {"reduction": loss.reduction}
    if loss.weight is not None:
        config["weight"] = loss.weight.tolist()
    if loss.ignore_index != -100:
        config["ignore_index"] = loss.ignore_index
    return config


class HingeLoss(_Loss):
    """Multiclass SVM loss: Lᵢ = Σ_{j≠yᵢ} max(0, sⱼ − s_yᵢ + margin), mean over examples."""

    _takes = "margin and reduction"

    def __init__(self, margin: float = 1.0, reduction: str = "mean", **unsupported: Any):
        super().__init__(reduction, **unsupported)
        self.margin = F.check_threshold("HingeLoss", "margin", margin, positive=False)

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        return F.hinge(input, target, self.margin, self.reduction)

    def get_config(self) -> dict[str, Any]:
        return {"margin": self.margin, "reduction": self.reduction}


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits: L = max(x, 0) − x·t + log(1 + e^−|x|);  dL/dx = σ(x) − t.

    PyTorch's ``pos_weight`` p (one per class, or one number) weighs the positives:
    L = −p·t·log σ(x) − (1 − t)·log(1 − σ(x));  dL/dx = (1 + (p − 1)t)·σ(x) − p·t.
    """

    _takes = "reduction and pos_weight"

    def __init__(self, reduction: str = "mean", *, pos_weight: Any = None, **unsupported: Any):
        super().__init__(reduction, **unsupported)
        self.pos_weight = None if pos_weight is None else \
            F.check_pos_weight("BCEWithLogitsLoss", pos_weight)

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        if self.pos_weight is None:
            return F.binary_cross_entropy_with_logits(input, target, self.reduction)
        return F.binary_cross_entropy_with_logits(input, target, self.reduction,
                                                  pos_weight=self.pos_weight)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"reduction": self.reduction}
        if self.pos_weight is not None:
            config["pos_weight"] = self.pos_weight.tolist()
        return config


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities: L = −(t log p + (1 − t) log(1 − p)), logs ≥ −100."""

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        return F.binary_cross_entropy(input, target, self.reduction)


LOSSES: dict[str, type[_Loss]] = {
    "mse": MSELoss,
    "l1": L1Loss,
    "mae": L1Loss,
    "smooth_l1": SmoothL1Loss,
    "huber": HuberLoss,
    "cross_entropy": CrossEntropyLoss,
    "softmax": CrossEntropyLoss,
    "nll": NLLLoss,
    "hinge": HingeLoss,
    "svm": HingeLoss,
    "bce_with_logits": BCEWithLogitsLoss,
    "bce": BCELoss,
}


def get_loss(name: str, **kwargs: Any) -> _Loss:
    """Build the loss called ``name`` (``"cross_entropy"``, ``"hinge"``, ``"mse"``…).

    Names are case-insensitive and ``-`` works as ``_``; unknown names raise
    ValueError listing the valid ones.
    """
    return lookup(LOSSES, name, "loss")(**kwargs)
