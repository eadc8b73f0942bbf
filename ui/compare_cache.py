"""Process-wide caches for the comparison page's sweeps and landscapes.

They live in a module, not in the page: Streamlit re-executes a page script on every rerun, so a
cache defined there would be a new, empty one each time. Arguments are hashable (tuples and the
frozen xc.LossOptions); functools rather than st.cache_data, whose argument hashing costs more than
these computations.
"""

from __future__ import annotations

import functools

import numpy as np

import xent_core as xc

SWEEP_POINTS = 161  # along the target logit, 0.15 apart
SWEEP_HALF_WIDTH = 12.0  # the sweep covers z_t ± this
LANDSCAPE_STEPS = 25  # grid points per axis: 625 per loss, smooth enough at the plot's size


@functools.lru_cache(maxsize=256)
def sweep(z: tuple[float, ...], target: int, keys: tuple[str, ...], opts: xc.LossOptions) -> xc.Sweep:
    """xc.target_logit_sweep around the sample's own target logit; an edit in another row reuses it."""
    zt = z[target]
    values = np.linspace(zt - SWEEP_HALF_WIDTH, zt + SWEEP_HALF_WIDTH, SWEEP_POINTS)
    return xc.target_logit_sweep(np.array(z), target, values, keys, opts)


@functools.lru_cache(maxsize=256)
def _landscape(
    reference: tuple[float, ...], target: int, key: str, rivals: tuple[int, int], opts: xc.LossOptions
) -> xc.Landscape:
    return xc.loss_landscape(np.array(reference), target, key, steps=LANDSCAPE_STEPS, rivals=rivals, options=opts)


def landscapes(z: np.ndarray, target: int, keys, opts: xc.LossOptions) -> dict[str, xc.Landscape]:
    """One landscape per loss for sample logits `z`, cached on what each grid depends on
    (xc.landscape_reference): with three classes every sample of a shift-invariant loss shares one grid."""
    rivals = xc.rival_classes(z, target)
    here = xc.landscape_position(z, target, rivals)
    return {
        key: _landscape(xc.landscape_reference(z, target, key, rivals), target, key, rivals, opts).with_position(here)
        for key in keys
    }
