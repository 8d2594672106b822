"""How to read a model's figures: an interval for the test accuracy, a warning when the test set is too small to
say much, and why the validation figure need not be the last point of the training curves."""

from __future__ import annotations

import math

from audionet_gui.core.base.words import count

# Below this many test windows (or this many per class) one more right or wrong window moves the accuracy by
# several points: the Results page says so and shows the interval.
SMALL_TEST_WINDOWS = 100
SMALL_TEST_PER_CLASS = 10


def wilson_interval(correct: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval (95 % by default) of a proportion ``correct / n``; (0, 1) when n is 0.

    Windows of one recording are not independent, so the true uncertainty is, if anything, wider."""
    if n <= 0:
        return 0.0, 1.0
    p = correct / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def accuracy_interval(test: dict) -> tuple[float, float] | None:
    """The 95 % interval of a metrics.json ``test`` block's window accuracy, or None without one."""
    n, accuracy = test.get("windows"), test.get("accuracy")
    if not n or accuracy is None:
        return None
    return wilson_interval(float(accuracy) * int(n), int(n))


def small_test_warning(test: dict) -> str:
    """A sentence when the test set is too small for its accuracy to mean much ("" when it is big enough)."""
    n = int(test.get("windows") or 0)
    supports = [int(s.get("support") or 0) for s in (test.get("per_class") or {}).values()]
    fewest = min(supports) if supports else n
    if n == 0 or (n >= SMALL_TEST_WINDOWS and fewest >= SMALL_TEST_PER_CLASS):
        return ""
    low, high = accuracy_interval(test) or (0.0, 1.0)
    per_class = f" ({fewest} for the smallest class)" if supports else ""
    return (f"A small test set: {count(n, 'window')}{per_class}. The accuracy could be anywhere from "
            f"{100 * low:.0f} % to {100 * high:.0f} % (95 % interval); test on more recordings (a test folder, "
            f"at least {SMALL_TEST_PER_CLASS} windows per class) for a firmer figure.")


def _rows(history) -> list[dict]:
    if isinstance(history, list):
        return [r for r in history if isinstance(r, dict)]
    if isinstance(history, dict):
        n = max((len(v) for v in history.values() if isinstance(v, list)), default=0)
        return [{"epoch": i + 1, **{k: v[i] for k, v in history.items() if isinstance(v, list) and i < len(v)}}
                for i in range(n)]
    return []


def validation_note(metrics: dict) -> str:
    """Why the validation accuracy reported after training differs from the curves' last point: early stopping
    keeps the weights of the epoch with the lowest validation loss, and the final figure is measured once more
    on all validation windows with those weights."""
    val = metrics.get("val") if isinstance(metrics.get("val"), dict) else None
    rows = [r for r in _rows(metrics.get("history")) if r.get("val_loss") is not None
            and r.get("val_loss") == r.get("val_loss")]
    if not val or val.get("accuracy") is None or not rows:
        return ""
    best = min(rows, key=lambda r: float(r["val_loss"]))
    last = rows[-1]
    text = f"Validation accuracy {100 * float(val['accuracy']):.1f} %: measured after training with the weights "
    if best is last:
        return text + f"of the last epoch ({int(best.get('epoch', len(rows)))})."
    last_acc = last.get("val_accuracy")
    last_text = f" ({100 * float(last_acc):.1f} %)" if last_acc is not None else ""
    return (text + f"kept, those of epoch {int(best.get('epoch', 0))} (the lowest validation loss), not of the "
            f"chart's last point, epoch {int(last.get('epoch', len(rows)))}{last_text}.")
