"""The loss-option sliders the Compare and Training pages share: same key, range, default and help,
bound to the URL, greyed out while their loss is not picked."""

from __future__ import annotations

from collections.abc import Collection

from ui import page_params as U

SMOOTHING_HELP = "Label-smoothed CE: the target becomes (1 − ε)·one-hot + ε/C."
GAMMA_HELP = "How strongly focal loss fades out samples that are already right; γ = 0 is cross-entropy."
SMOOTHING = (0.0, 1.0, 0.1, 0.01)  # min, max, default, step
GAMMA = (0.0, 5.0, 2.0, 0.1)
BOUND = {"eps": U.Number(*SMOOTHING[:2]), "gamma": U.Number(*GAMMA[:2])}  # what a link may give them


def smoothing_slider(where, losses: Collection[str]) -> float:
    """Label smoothing ε (URL key "eps"), in `where` (a column or st); enabled while smoothed CE is picked."""
    return where.slider(
        "Smoothing ε",
        *SMOOTHING,
        key="eps",
        bind="query-params",
        disabled="smoothed_ce" not in losses,
        help=SMOOTHING_HELP,
    )


def gamma_slider(where, losses: Collection[str]) -> float:
    """Focal loss's γ (URL key "gamma"), in `where`; enabled while focal loss is picked."""
    return where.slider(
        "Focal γ",
        *GAMMA,
        key="gamma",
        bind="query-params",
        disabled="focal" not in losses,
        help=GAMMA_HELP,
    )
