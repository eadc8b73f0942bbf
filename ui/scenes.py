"""The images page's scene settings and a per-process cache of the scenes they make.

Kept out of the page script on purpose: Streamlit re-executes a page on every rerun, so a class or
an lru_cache defined there is a new object each time (an old instance never equals a new one, and
the cache starts empty). Here they live as long as the server process.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

from xent_core import images as im

GENERATED, FORUM = "Generated blobs", "Forum 2×2 (seed 002)"
SCENES = (GENERATED, FORUM)


class SceneParams(NamedTuple):
    """What the target mask depends on (the noise changes only the logits)."""

    scene: str  # one of SCENES
    height: int
    width: int
    classes: int
    seed: int
    void: bool


FORUM_PARAMS = SceneParams(FORUM, 2, 2, 3, 0, False)


@functools.lru_cache(maxsize=64)
def make_scene(params: SceneParams, noise: float) -> im.Scene:
    """The scene for these settings (immutable arrays, so sharing one across sessions is safe)."""
    if params.scene == FORUM:
        return im.forum_scene()
    return im.blob_scene(
        params.height, params.width, params.classes, seed=params.seed, noise=noise, void_boundaries=params.void
    )
