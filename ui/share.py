"""Links and iframe snippets for the current page's state (which lives in the query string)."""

from __future__ import annotations

import html
from collections.abc import Mapping
from urllib.parse import urlencode

import streamlit as st

FALLBACK_BASE = "http://localhost:8501"


def share_link(page_path: str, state: Mapping[str, str], options: Mapping[str, object]) -> str:
    """The URL of this page for `state` (the encoded batch) and `options` (bound widgets' values).

    Options equal to their defaults are left out, as Streamlit's own binding does; a list (a
    multiselect's value) becomes a repeated parameter, ?losses=ce&losses=mse, as Streamlit writes it. The bound
    widgets' values are passed in rather than read back from st.query_params, because the browser,
    not the server, writes them into the address bar.
    """
    base = st.context.url or f"{FALLBACK_BASE}/{page_path}"
    params = dict(state)
    for key, (value, default) in options.items():
        if value != default:
            params[key] = ([str(v) for v in value] or "") if isinstance(value, list | tuple) else str(value)
    return f"{base}?{urlencode(params, doseq=True)}" if params else base


def iframe_snippet(link: str, *, width: int = 760, height: int = 640) -> str:
    """An <iframe> for a course page: Streamlit's embed mode (no sidebar, no menu), light theme."""
    sep = "&" if "?" in link else "?"
    src = f"{link}{sep}embed=true&embed_options=light_theme"
    return (
        f'<iframe src="{html.escape(src)}" width="{width}" height="{height}" '
        f'style="border:1px solid #ddd;border-radius:8px" loading="lazy" '
        f'title="Cross-entropy example (xent)"></iframe>'
    )
