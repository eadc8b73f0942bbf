"""A widget every page uses the same way: a choice that always has a value, bound to the URL."""

from __future__ import annotations

from collections.abc import Sequence


def choice(where, label: str, options: Sequence, *, default, key: str, **kwargs):
    """A segmented control with one option always chosen, bound to the URL parameter `key`; in `where`
    (a column, a container or st). Other keyword arguments go to st.segmented_control.

    Streamlit 1.67 registers a bound segmented control as clearable even with required=True, so a
    link's empty "key=" reaches it as no choice at all (None, nothing shown selected). That reads as
    `default` here, as the page's link warning says (`ui.share.bound_problems`), and the share link
    carries the default (`ui.share.bound_values`)."""
    value = where.segmented_control(
        label, options, default=default, required=True, key=key, bind="query-params", **kwargs
    )
    return default if value is None else value
