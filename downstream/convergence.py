"""Whether a head had finished learning when its training stopped, from its dev curve.

The expert appends every dev evaluation (step, selection score, loss) and every logged train loss
to ``<expdir>/curve.json`` while it trains; the result row carries ``summarise``'s verdict under
``convergence``. A head still learning when training stopped measures the optimiser, not the
features: on real EmoDB under the paper's schedule (issue 26) every one of 18 cells chose its
dev-best in the last 30% of training, 14 of 18 in the last two evaluations (the last 4%), and the
ranking of upstreams inverted; trained longer, the dev-best steps spread over 38-99% of training.

Not converged, when either holds:
- the dev-best step lies in the last ``LATE`` (10%) of the steps trained: it catches the 14 of 18
  whose best was in the last two evaluations. On a flat but noisy curve the best falls there by
  chance about one time in ten (50 evaluations, 5 of them in the last 10%): the mark is a
  warning, and the converge schedule (patience) never ends a run that way unless it hits its cap.
- the dev score rose by more than ``RISE`` over the last ``WINDOW`` (20%): the best score in the
  window minus the best before it. It catches a curve still climbing whose best is a little before
  the end (the other 4 of 18, best in the last 30%). Best against best compares more evaluations
  before the window than in it, so on a plateau the difference is negative on average; 0.01 (one
  point of F1, one utterance of a 100-utterance dev set, or 0.01 CCC) is above one utterance's flip.
Recorded too, not deciding: the dev loss's relative drop over the last 20% (lowest in the window
against lowest before) and the train loss's relative change over the last 20% (against the 20%
before). Measured on log-mel heads of a synthetic EmoDB, the dev loss of a head at chance that
still learns (lr 3e-6: weighted F1 flat at 0.09, dev loss 2.25 -> 1.90 over 500 steps) dropped
0.8-0.9% over the last 20%, and that of a converged head on a plateau 0.5%: too close for a
threshold. Such a head is caught instead by its probe (the leaderboard's mark for a head well
below its linear probe), and the converge schedule's grid tries larger rates.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

LATE = 0.10
WINDOW = 0.20
RISE = 0.01
CURVE = "curve.json"


def read_curve(expdir: str | Path) -> dict:
    path = Path(expdir) / CURVE
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {"dev": [], "train": []}


def best_evaluation(dev: list) -> tuple | None:
    """(step, score, loss) the expert selected: the highest score, a tie to the lower loss."""
    best = None
    for step, score, loss in dev:
        if best is None or score > best[1] or (score == best[1] and loss < best[2]):
            best = (step, score, loss)
    return best


def summarise(curve: dict, steps_trained: int) -> dict:
    dev, train = curve.get("dev") or [], curve.get("train") or []
    if not dev or steps_trained <= 0:
        return {"converged": None, "reason": "no dev evaluation recorded", "steps_trained": steps_trained}
    best = best_evaluation(dev)
    # Judged on when the best score was first reached: a later tie won on dev loss (the expert's
    # checkpoint rule) is a head whose score stopped improving.
    first = next(step for step, score, _ in dev if score == best[1])
    cut = steps_trained * (1 - WINDOW)
    before = [score for step, score, _ in dev if step <= cut]
    after = [score for step, score, _ in dev if step > cut]
    rise = max(after) - max(before) if before and after else None
    low_before = min((loss for step, _, loss in dev if step <= cut), default=None)
    low_after = min((loss for step, _, loss in dev if step > cut), default=None)
    drop = 1 - low_after / low_before if low_before and low_after is not None else None
    fraction = first / steps_trained
    reasons = []
    if fraction > 1 - LATE:
        reasons.append(f"best dev score first reached at step {first} of {steps_trained} (the last {LATE:.0%})")
    if rise is not None and rise > RISE:
        reasons.append(f"dev score rose by {rise:.4f} over the last {WINDOW:.0%} (> {RISE})")
    return {"converged": not reasons, "reason": "; ".join(reasons) or None,
            "dev_best_step": best[0], "best_score_first_step": first, "dev_best_fraction": round(fraction, 4),
            "steps_trained": steps_trained,
            "dev_rise_last_20pct": None if rise is None else round(rise, 6),
            "dev_loss_drop_last_20pct": None if drop is None else round(drop, 6),
            "train_loss_change_last_20pct": loss_trend(train, steps_trained),
            "n_dev_evaluations": len(dev), "thresholds": {"late": LATE, "window": WINDOW, "rise": RISE}}


def loss_trend(train: list, steps_trained: int) -> float | None:
    """Relative change of the mean train loss over the last 20% against the 20% before."""
    last = [loss for step, loss in train if step > steps_trained * (1 - WINDOW)]
    prior = [loss for step, loss in train if steps_trained * (1 - 2 * WINDOW) < step <= steps_trained * (1 - WINDOW)]
    if not last or not prior:
        return None
    mean_prior = sum(prior) / len(prior)
    change = (sum(last) / len(last) - mean_prior) / mean_prior if mean_prior else math.nan
    return round(change, 6) if math.isfinite(change) else None
