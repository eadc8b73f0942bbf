"""The sidebar navigation, the same on every page (Streamlit's automatic one is turned off in
.streamlit/config.toml so that the landing page can be called "Home" rather than "app")."""

from __future__ import annotations

import streamlit as st

PAGES = (
    ("app.py", "Home", ":material/home:"),
    ("pages/1_Playground.py", "Playground", ":material/tune:"),
    ("pages/2_Compare.py", "Compare losses", ":material/compare_arrows:"),
)


def sidebar() -> None:
    with st.sidebar:
        st.markdown("**xent** · cross-entropy, explained")
        for path, label, icon in PAGES:
            st.page_link(path, label=label, icon=icon)
