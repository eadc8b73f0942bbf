"""The live cross-check against torch, and the equivalent PyTorch code for the current state.

torch is imported lazily (the first check pays ~1 s once per server process). This code is the
app's own; the tests use a separate torch oracle, so a bug here cannot hide a bug in xent_core.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

TOLERANCE = 1e-6  # relative to max(1, |value|); float64 on both sides normally agrees to ~1e-15


@functools.cache
def _torch():
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(1)  # tiny tensors: threads only add latency
    return torch, F


@dataclass(frozen=True)
class CrossCheck:
    torch_loss: float
    max_loss_diff: float
    max_grad_diff: float
    ok: bool


def cross_entropy_check(
    logits: np.ndarray,
    target: np.ndarray,
    loss: float,
    grad: np.ndarray,
    *,
    weight: np.ndarray | None,
    ignore_index: int,
    reduction: str,
    label_smoothing: float,
    temperature: float,
) -> CrossCheck:
    """Recompute loss and gradient with torch in float64 and compare with xent_core's.

    For reduction='none', torch's per-sample losses are summed and that sum is differentiated,
    which is how xent_core reports 'none' too.
    """
    torch, F = _torch()
    z = torch.tensor(np.asarray(logits, dtype=np.float64), requires_grad=True)
    tgt = torch.tensor(target) if target.dtype.kind == "f" else torch.tensor(target, dtype=torch.long)
    w = None if weight is None else torch.tensor(np.asarray(weight, dtype=np.float64))
    out = F.cross_entropy(
        z / temperature, tgt, weight=w, ignore_index=ignore_index, reduction=reduction, label_smoothing=label_smoothing
    )
    total = out.sum() if reduction == "none" else out
    total.backward()
    torch_loss = float(total.detach())
    loss_diff = abs(torch_loss - float(loss))
    grad_diff = float(np.max(np.abs(z.grad.numpy() - grad), initial=0.0))
    scale = max(1.0, abs(torch_loss))
    ok = bool(loss_diff <= TOLERANCE * scale and grad_diff <= TOLERANCE * scale) or (
        np.isnan(torch_loss) and np.isnan(loss)
    )
    return CrossCheck(torch_loss, loss_diff, grad_diff, ok)


def _torch_per_sample(key: str, z, t, options):
    """Each comparison loss per sample, written out in torch ops exactly as LOSSES[key].torch says."""
    torch, F = _torch()
    c = z.shape[1]
    if key == "ce":
        return F.cross_entropy(z, t, reduction="none")
    if key == "smoothed_ce":
        return F.cross_entropy(z, t, label_smoothing=options.label_smoothing, reduction="none")
    if key == "mse":
        return ((z.softmax(1) - F.one_hot(t, c).to(z.dtype)) ** 2).mean(1)
    if key == "hinge":
        return F.multi_margin_loss(z, t, p=options.p, margin=options.margin, reduction="none")
    if key == "focal":
        log_pt = z.log_softmax(1).gather(1, t[:, None])[:, 0]
        return -((-torch.expm1(log_pt)) ** options.gamma) * log_pt
    if key == "sigmoid":
        s = z.sigmoid()
        return torch.where(F.one_hot(t, c) == 1, 1 - s, s).mean(1)
    raise ValueError(f"unknown loss {key!r}")


def comparison_check(logits: np.ndarray, target: np.ndarray, results, options) -> CrossCheck:
    """Every compared loss per sample and its gradient, recomputed with torch in float64.

    results: xent_core.compare_losses' output; options: its LossOptions. The largest differences
    over all losses are reported; torch_loss is the cross-entropy mean when 'ce' is compared.
    One backward pass serves every loss: loss k reads its own copy Z[k] of the logits, so the
    gradient of the summed losses with respect to Z[k] is loss k's gradient alone.
    """
    torch, _ = _torch()
    keys = list(results)
    torch_loss = float("nan")
    if not keys:
        return CrossCheck(torch_loss, 0.0, 0.0, True)
    t = torch.tensor(np.asarray(target), dtype=torch.long)
    z = np.asarray(logits, dtype=np.float64)
    copies = torch.tensor(np.broadcast_to(z, (len(keys), *z.shape)).copy(), requires_grad=True)
    per = [_torch_per_sample(key, copies[k], t, options) for k, key in enumerate(keys)]
    torch.stack([p.sum() for p in per]).sum().backward()
    grads = copies.grad.numpy()
    loss_diff = grad_diff = 0.0
    for k, key in enumerate(keys):
        values = per[k].detach().numpy()
        if key == "ce" and len(values):
            torch_loss = float(values.mean())
        loss_diff = max(loss_diff, float(np.max(np.abs(values - results[key].per_sample), initial=0.0)))
        grad_diff = max(grad_diff, float(np.max(np.abs(grads[k] - results[key].grad), initial=0.0)))
    scale = max(1.0, max(float(np.max(np.abs(r.per_sample), initial=0.0)) for r in results.values()))
    ok = loss_diff <= TOLERANCE * scale and grad_diff <= TOLERANCE * scale
    return CrossCheck(torch_loss, loss_diff, grad_diff, bool(ok))


def multilabel_check(logits: np.ndarray, labels: np.ndarray, pos_weight: float, ml) -> CrossCheck:
    """Both multi-label models recomputed with torch in float64: BCE-with-logits and soft-target CE.

    ml: xent_core.multilabel_losses' output for the same input.
    """
    torch, F = _torch()
    y = torch.tensor(np.asarray(labels, dtype=np.float64))
    pw = torch.full((y.shape[1],), float(pos_weight), dtype=torch.float64)
    z = torch.tensor(np.asarray(logits, dtype=np.float64), requires_grad=True)
    bce = F.binary_cross_entropy_with_logits(z, y, pos_weight=pw, reduction="none").mean(1)
    bce.sum().backward()
    bce_grad = z.grad.numpy().copy()
    z.grad = None
    ce = F.cross_entropy(z, y / y.sum(1, keepdim=True), reduction="none")
    ce.sum().backward()
    loss_diff = max(
        float(np.max(np.abs(bce.detach().numpy() - ml.bce_per_sample), initial=0.0)),
        float(np.max(np.abs(ce.detach().numpy() - ml.ce_per_sample), initial=0.0)),
    )
    grad_diff = max(
        float(np.max(np.abs(bce_grad - ml.bce_grad), initial=0.0)),
        float(np.max(np.abs(z.grad.numpy() - ml.ce_grad), initial=0.0)),
    )
    scale = max(1.0, float(ce.detach().abs().max()) if len(ce) else 1.0)
    ok = loss_diff <= TOLERANCE * scale and grad_diff <= TOLERANCE * scale
    return CrossCheck(float(ce.detach().mean()), loss_diff, grad_diff, bool(ok))


def _literal(a: np.ndarray) -> str:
    if a.ndim == 1:
        return "[" + ", ".join(_num(x) for x in a) + "]"
    return "[\n" + "".join(f"        {_literal(row)},\n" for row in a) + "    ]"


def _num(x) -> str:
    if isinstance(x, np.integer | int):
        return str(int(x))
    text = repr(float(x))
    return text


def pytorch_code(
    logits: np.ndarray,
    target: np.ndarray,
    *,
    class_names: tuple[str, ...],
    weight: np.ndarray | None,
    ignore_index: int,
    reduction: str,
    label_smoothing: float,
    temperature: float,
) -> str:
    """A runnable script that prints the same loss, per-sample losses and gradient as the page."""
    lines = [
        "import torch",
        "import torch.nn.functional as F",
        "",
        f"# classes: {', '.join(repr(n) for n in class_names)}",
        f"logits = torch.tensor({_literal(np.asarray(logits, dtype=np.float64))},",
        "                      dtype=torch.float64, requires_grad=True)",
    ]
    if target.dtype.kind == "f":
        lines.append(f"target = torch.tensor({_literal(target)}, dtype=torch.float64)  # class probabilities")
    else:
        lines.append(f"target = torch.tensor({_literal(target)})  # class indices; {ignore_index} = ignored")
    options = []
    if weight is not None:
        lines.append(f"weight = torch.tensor({_literal(np.asarray(weight, dtype=np.float64))}, dtype=torch.float64)")
        options.append("weight=weight")
    if ignore_index != -100:
        options.append(f"ignore_index={ignore_index}")
    if label_smoothing:
        options.append(f"label_smoothing={label_smoothing!r}")
    z = "logits" if temperature == 1 else f"logits / {temperature!r}"
    opts = "".join(f", {o}" for o in options)
    lines += [
        "",
        f"per_sample = F.cross_entropy({z}, target{opts}, reduction='none')",
        f"loss = F.cross_entropy({z}, target{opts}, reduction={reduction!r})",
    ]
    if reduction == "none":
        lines += ["loss.sum().backward()  # 'none': the gradient of the summed losses"]
    else:
        lines += ["loss.backward()"]
    lines += [
        "",
        "torch.set_printoptions(precision=4, sci_mode=False)",
        "print('per-sample loss:', per_sample.detach())",
        "print('loss:', loss.detach())",
        "print('d loss / d logits:')",
        "print(logits.grad)",
    ]
    return "\n".join(lines) + "\n"
