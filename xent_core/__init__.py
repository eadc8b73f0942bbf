"""xent_core: cross-entropy and its alternatives in plain numpy, matching torch.nn.functional.

Every function is pure: numpy arrays in, numpy arrays (or numpy scalars) out, inputs never
mutated. Names, options and defaults are torch's; each docstring names the torch call that gives
the same numbers. Importing this package loads numpy only (no torch, streamlit or plotly).

Layout: activations (softmax & co.), cross_entropy (cross_entropy, nll_loss), binary (sigmoid
losses), alternatives (MSE, hinge, focal, sigmoid distance), information (entropy, KL), trace
(every intermediate, for display), compare (every loss on the same inputs: per-sample values,
sweeps, landscapes, multi-label), pitfalls, images (K-dimensional, per pixel), decomposition
(entropy + KL), datasets (toy 2-D data for training), training (one
model per loss, side by side; torch loaded lazily), checks (errors and advisory notes), presets (documented examples).
"""

from xent_core import datasets, training  # modules: training loads torch lazily, inside its functions
from xent_core._reduction import REDUCTIONS, Reduction
from xent_core.activations import log_sigmoid, log_softmax, logsumexp, sigmoid, softmax
from xent_core.alternatives import (
    mse_loss,
    mse_loss_and_grad,
    mse_loss_grad,
    mse_on_softmax,
    mse_on_softmax_and_grad,
    mse_on_softmax_grad,
    multi_margin_loss,
    multi_margin_loss_and_grad,
    multi_margin_loss_grad,
    sigmoid_distance_loss,
    sigmoid_distance_loss_and_grad,
    sigmoid_distance_loss_grad,
    softmax_focal_loss,
    softmax_focal_loss_and_grad,
    softmax_focal_loss_grad,
)
from xent_core.binary import (
    binary_cross_entropy,
    binary_cross_entropy_and_grad,
    binary_cross_entropy_grad,
    binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_and_grad,
    binary_cross_entropy_with_logits_grad,
    sigmoid_focal_loss,
    sigmoid_focal_loss_and_grad,
    sigmoid_focal_loss_grad,
)
from xent_core.checks import Advisory, XentInputError, advise, check_logits, describe_position
from xent_core.compare import (
    LOSSES,
    Landscape,
    LossOptions,
    LossResult,
    MultiLabel,
    Sweep,
    compare_losses,
    landscape_position,
    landscape_reference,
    loss_landscape,
    multilabel_losses,
    rival_classes,
    target_logit_sweep,
)
from xent_core.cross_entropy import (
    cross_entropy,
    cross_entropy_and_grad,
    cross_entropy_grad,
    nll_loss,
    nll_loss_and_grad,
    nll_loss_grad,
)
from xent_core.decomposition import Decomposition, decompose, loss_scale, loss_to_probability, train_val_reading
from xent_core.images import PixelLosses, Scene, blob_scene, forum_scene, pixel_losses
from xent_core.information import entropy, kl_div, kl_div_and_grad, kl_div_grad
from xent_core.pitfalls import (
    class_weighting,
    log_softmax_steps,
    log_softmax_sweep,
    multilabel_sweep,
    naive_log_softmax,
    probs_as_logits,
    unnormalised_nll,
)
from xent_core.presets import MULTI_LABEL, PRESETS, MultiLabelExample, Preset, random_batch
from xent_core.trace import CrossEntropyTrace, cross_entropy_trace

__all__ = [
    "LOSSES",
    "MULTI_LABEL",
    "PRESETS",
    "REDUCTIONS",
    "Advisory",
    "CrossEntropyTrace",
    "Decomposition",
    "Landscape",
    "LossOptions",
    "LossResult",
    "MultiLabel",
    "MultiLabelExample",
    "PixelLosses",
    "Preset",
    "Reduction",
    "Scene",
    "Sweep",
    "XentInputError",
    "advise",
    "binary_cross_entropy",
    "binary_cross_entropy_and_grad",
    "binary_cross_entropy_grad",
    "binary_cross_entropy_with_logits",
    "binary_cross_entropy_with_logits_and_grad",
    "binary_cross_entropy_with_logits_grad",
    "blob_scene",
    "check_logits",
    "class_weighting",
    "compare_losses",
    "cross_entropy",
    "cross_entropy_and_grad",
    "cross_entropy_grad",
    "cross_entropy_trace",
    "datasets",
    "decompose",
    "describe_position",
    "entropy",
    "forum_scene",
    "kl_div",
    "kl_div_and_grad",
    "kl_div_grad",
    "landscape_position",
    "landscape_reference",
    "log_sigmoid",
    "log_softmax",
    "log_softmax_steps",
    "log_softmax_sweep",
    "logsumexp",
    "loss_landscape",
    "loss_scale",
    "loss_to_probability",
    "mse_loss",
    "mse_loss_and_grad",
    "mse_loss_grad",
    "mse_on_softmax",
    "mse_on_softmax_and_grad",
    "mse_on_softmax_grad",
    "multi_margin_loss",
    "multi_margin_loss_and_grad",
    "multi_margin_loss_grad",
    "multilabel_losses",
    "multilabel_sweep",
    "naive_log_softmax",
    "nll_loss",
    "nll_loss_and_grad",
    "nll_loss_grad",
    "pixel_losses",
    "probs_as_logits",
    "random_batch",
    "rival_classes",
    "sigmoid",
    "sigmoid_distance_loss",
    "sigmoid_distance_loss_and_grad",
    "sigmoid_distance_loss_grad",
    "sigmoid_focal_loss",
    "sigmoid_focal_loss_and_grad",
    "sigmoid_focal_loss_grad",
    "softmax",
    "softmax_focal_loss",
    "softmax_focal_loss_and_grad",
    "softmax_focal_loss_grad",
    "target_logit_sweep",
    "train_val_reading",
    "training",
    "unnormalised_nll",
]
