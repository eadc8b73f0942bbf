"""The sidebar navigation, the same on every page (Streamlit's automatic one is turned off in
.streamlit/config.toml so that the landing page can be called "Home" rather than "app")."""

from __future__ import annotations

import functools

import streamlit as st

# (script, label, icon, the one sentence the landing page shows under its link)
PAGES = (
    ("app.py", "Home", ":material/home:", ""),
    (
        "pages/1_Playground.py",
        "Playground",
        ":material/tune:",
        "Edit logits and targets; see softmax, the loss and its gradient, step by step.",
    ),
    (
        "pages/2_Compare.py",
        "Compare losses",
        ":material/compare_arrows:",
        "Cross-entropy beside MSE, hinge, label smoothing, focal and the sigmoid loss: numbers, sweeps, landscapes.",
    ),
    (
        "pages/3_Training.py",
        "Training lab",
        ":material/model_training:",
        "One network trained with cross-entropy, MSE, the sigmoid loss and others side by side.",
    ),
    (
        "pages/4_Pitfalls.py",
        "Pitfalls",
        ":material/warning:",
        "Five mistakes that run without an error: probabilities as logits, log(softmax), class weights and more.",
    ),
    (
        "pages/5_Images.py",
        "Images",
        ":material/grid_on:",
        "Cross-entropy per pixel: target mask, predicted map, loss heatmap, void pixels (255) ignored.",
    ),
    (
        "pages/6_Information.py",
        "Information",
        ":material/functions:",
        "Entropy, cross-entropy and KL divergence in bits or nats; what a loss value means.",
    ),
)


@functools.cache
def links() -> tuple[st.Page, ...]:
    """One st.Page per entry of PAGES, made once per server process: a link to a Page object skips
    the path lookup a link to a file path does on every rerun (about 0.2 ms per link).

    The pages must equal the ones Streamlit registers for the pages/ folder (same file, same URL
    path, app.py the default), or st.page_link refuses them; tests/app checks that they match.
    """
    return tuple(st.Page(path, title=label, icon=icon, default=path == "app.py") for path, label, icon, _ in PAGES)


def sidebar() -> None:
    """The page list in the sidebar; nothing when embedded (?embed=true): a course page's iframe
    shows one example, and any sidebar content would make Streamlit draw the sidebar there."""
    if st.context.is_embedded:
        return
    with st.sidebar:
        st.markdown("**xent** · cross-entropy, explained")
        for page in links():
            st.page_link(page)
