"""Links and iframe snippets for the current page's state (which lives in the query string), the
"Share / embed" panel every page ends with, and the read-only figure view (`?view=figure`)."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from urllib.parse import urlencode

import streamlit as st

from ui import page_params as U
from ui import theme

FALLBACK_BASE = "http://localhost:8501"
VIEW, FIGURE = "view", "figure"  # ?view=figure: a read-only figure for a lecture slide, the inputs hidden


def share_link(page_path: str, state: Mapping[str, str], options: Mapping[str, object]) -> str:
    """The URL of this page for `state` (the parameters the page encodes itself, such as its tables)
    and `options` ({key: (value, default)} of its URL-bound widgets).

    Options equal to their defaults are left out, as Streamlit's own binding does; a list (a
    multiselect's value) becomes a repeated parameter, ?losses=ce&losses=mse, as Streamlit writes it. The bound
    widgets' values are passed in rather than read back from st.query_params, because the browser,
    not the server, writes them into the address bar (`bound_values` reads them).
    """
    base = st.context.url or f"{FALLBACK_BASE}/{page_path}"
    params = dict(state)
    for key, (value, default) in options.items():
        if isinstance(value, list | tuple):
            if list(value) != list(default):
                params[key] = [str(v) for v in value] or ""
        elif _text(value) != _text(default):  # a value read back from the URL is text: "50" is the default 50
            params[key] = _text(value)
    return f"{base}?{urlencode(params, doseq=True)}" if params else base


def _text(value: object) -> str:
    """A bound widget's value as Streamlit writes it into the URL (a toggle as true / false)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def link_problems(messages: list[str]) -> None:
    """One warning listing what a page could not read from its link (values quoted from the link are
    Markdown-escaped: a link is text anyone can write); nothing when the list is empty."""
    if messages:
        text = "Parts of this link could not be read: " + "; ".join(messages) + "."
        st.warning(theme.md_escape(text), icon=":material/link_off:")


def bound_problems(prefix: str, specs: Mapping[str, U.Spec]) -> list[str]:
    """Messages for `link_problems`: what the opening link gives URL-bound widgets that they cannot use.
    Streamlit drops such a value silently and shows the default, so the link is read here, once per
    session and before the widgets see it."""
    key = f"{prefix}.bound_problems"
    if key not in st.session_state:
        st.session_state[key] = U.check_bound(st.query_params.to_dict(), specs)
    return st.session_state[key]


def iframe_snippet(link: str, *, width: int = 760, height: int = 640) -> str:
    """An <iframe> for a course page: Streamlit's embed mode (no sidebar, no menu), light theme."""
    sep = "&" if "?" in link else "?"
    src = f"{link}{sep}embed=true&embed_options=light_theme"
    return (
        f'<iframe src="{html.escape(src)}" width="{width}" height="{height}" '
        f'style="border:1px solid #ddd;border-radius:8px" loading="lazy" '
        f'title="Cross-entropy example (xent)"></iframe>'
    )


def enter(prefix: str) -> bool:
    """Record that this session now runs the page with session-state prefix `prefix`; True when it has
    just come in (a first load, or a switch from another page). Call at the top of every page.

    Coming in also forgets which of the page's parameters this session last wrote into the URL
    (`<prefix>.url_written`): a page switch clears the query string, so the page must write its
    state again, or the address bar would not hold what the page shows.
    """
    if st.session_state.get(_CURRENT_PAGE) == prefix:
        return False
    st.session_state[_CURRENT_PAGE] = prefix
    st.session_state.pop(f"{prefix}.url_written", None)
    return True


def figure_only(prefix: str) -> bool:
    """Enter the page (`enter`) and say whether it shows a read-only figure (`?view=figure`): the page
    then hides its editors and shows the link's values. Call at the top of the page script.

    Read when the session comes into the page; fragment reruns and reruns of the same page keep it
    (st.query_params costs ~1 ms to read).
    """
    key = f"{prefix}.figure_only"
    if enter(prefix) or key not in st.session_state:
        st.session_state[key] = st.query_params.get(VIEW) == FIGURE
    return st.session_state[key]


_CURRENT_PAGE = "xent.page"  # session state: the prefix of the page this session last ran


def bound_values(
    defaults: Mapping[str, object],
    shown_as: Mapping[str, Callable[[object], str]] | None = None,
    values: Mapping[str, object] | None = None,
) -> dict[str, tuple[object, object]]:
    """{key: (value, default)} for widgets bound to the URL, as `share_link` wants them, in the URL's
    terms: a widget that shows its options through a format_func is written as that text, so
    `shown_as` maps its key to the same function. The value is `values[key]` when given (what is on
    screen, when the widgets may have moved on); else a widget drawn in this run has it in session
    state; one that was not (a closed tab's) keeps the value the URL holds."""

    def shown(key: str, value: object, many: bool) -> object:
        fmt = (shown_as or {}).get(key, lambda v: v)
        return [fmt(x) for x in value] if many else fmt(value)

    out = {}
    for key, default in defaults.items():
        many = isinstance(default, list | tuple)
        if values is not None and key in values:
            value = shown(key, _or(values[key], default), many)
        elif key in st.session_state:  # None: a choice left empty (a link's "key="), which shows the default
            value = shown(key, _or(st.session_state[key], default), many)
        else:  # already text, as the URL holds it
            value = st.query_params.get_all(key) if many else st.query_params.get(key)
            value = shown(key, default, many) if value is None or value == [] else value
        out[key] = (value, shown(key, default, many))
    return out


def _or(value: object, default: object) -> object:
    return default if value is None else value


Params = Mapping[str, str]
Bound = Mapping[str, tuple[object, object]]


def panel(
    prefix: str,
    page_path: str,
    state: Params | Callable[[], Params],
    bound: Bound | Callable[[], Bound],
    *,
    what: str = "this example",
) -> None:
    """The "Share / embed" expander: a link to exactly what is on screen and an <iframe> for a course
    page, either one editable or as a read-only figure. Built only while open.

    state: the page's own URL parameters (its tables, as it encodes them); bound: {key: (value,
    default)} of its URL-bound widgets (see `bound_values`). Either may be a function, called only
    while the panel is open.
    """
    sharing = st.expander(f"Share / embed {what}", key=f"{prefix}.share", on_change="rerun")
    if not sharing.open:
        return
    read_only = sharing.toggle(
        "Read-only figure: hide the editors (for a lecture slide)",
        value=figure_only(prefix),
        key=f"{prefix}.share.figure",
    )
    params = dict(state() if callable(state) else state, **({VIEW: FIGURE} if read_only else {}))
    link = share_link(page_path, params, bound() if callable(bound) else bound)
    sharing.caption(f"A link that opens {what}:")
    sharing.code(link, language=None)
    sharing.caption("An iframe for a course page (no sidebar, light theme):")
    sharing.code(iframe_snippet(link), language="html")
