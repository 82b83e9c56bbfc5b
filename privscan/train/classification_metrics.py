"""Private/public classification metrics as the DRAG paper reports them (Table 1).

Table 1 gives, per dataset, the overall accuracy and precision / recall / F1 of each class (private and
public). Here the same numbers plus the confusion matrix (rows = true class, columns = predicted) and the
macro averages, with a fixed class order so JSON files from different runs line up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass
class ClassScores:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class ClassificationMetrics:
    classes: list[str]
    accuracy: float
    per_class: dict[str, ClassScores]
    confusion: list[list[int]]  # confusion[true][pred], in `classes` order
    macro_precision: float
    macro_recall: float
    macro_f1: float
    count: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ClassificationMetrics:
        return cls(**{**raw, "per_class": {k: ClassScores(**v) for k, v in raw["per_class"].items()}})

    def table_rows(self, display_order: Sequence[str] = ("private", "public")) -> list[tuple[str, float, float, float]]:
        """(class, P, R, F1) rows in the paper's order (private first)."""
        order = [c for c in display_order if c in self.per_class] + [c for c in self.classes if c not in display_order]
        return [(c, self.per_class[c].precision, self.per_class[c].recall, self.per_class[c].f1) for c in order]


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den > 0 else 0.0


def classification_metrics(
    y_true: Sequence[int] | np.ndarray, y_pred: Sequence[int] | np.ndarray, classes: Sequence[str]
) -> ClassificationMetrics:
    """Accuracy, per-class precision/recall/F1 and the confusion matrix; a class never predicted scores 0."""
    t = np.asarray(y_true, dtype=np.int64).ravel()
    p = np.asarray(y_pred, dtype=np.int64).ravel()
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.size} labels, y_pred {p.size}")
    k = len(classes)
    if t.size and (t.min() < 0 or t.max() >= k or p.min() < 0 or p.max() >= k):
        raise ValueError(f"labels must be in 0..{k - 1}")
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (t, p), 1)
    per_class: dict[str, ClassScores] = {}
    for i, name in enumerate(classes):
        tp = confusion[i, i]
        precision = _ratio(tp, confusion[:, i].sum())
        recall = _ratio(tp, confusion[i, :].sum())
        f1 = _ratio(2 * precision * recall, precision + recall)
        per_class[name] = ClassScores(precision, recall, f1, int(confusion[i, :].sum()))
    scores = list(per_class.values())
    return ClassificationMetrics(
        classes=list(classes),
        accuracy=_ratio(np.trace(confusion), t.size),
        per_class=per_class,
        confusion=confusion.tolist(),
        macro_precision=float(np.mean([s.precision for s in scores])),
        macro_recall=float(np.mean([s.recall for s in scores])),
        macro_f1=float(np.mean([s.f1 for s in scores])),
        count=int(t.size),
    )
