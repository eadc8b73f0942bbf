"""ui.theme: number formats, label escaping and the palette."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from ui import theme


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "—"),
        (float("nan"), "—"),
        (np.float64("nan"), "—"),
        (math.inf, "∞"),
        (-math.inf, "−∞"),
        (np.float64("inf"), "∞"),
        (0.0, "0.0000"),
        (0, "0.0000"),
        (0.5, "0.5000"),
        (1.0, "1.0000"),
        (-2.302585, "-2.3026"),
        (123456.789, "123456.7890"),
        (1e-4, "0.0001"),
        (9.9e-5, "9.900e-05"),
        (1e-12, "1.000e-12"),
        (-5e-324, "-4.941e-324"),
        (1e6, "1.000e+06"),
        (-3.5e9, "-3.500e+09"),
        (np.float32(0.25), "0.2500"),
    ],
)
def test_fmt_formats_like_the_pages_print(value, text):
    assert theme.fmt(value) == text


@pytest.mark.parametrize(
    ("value", "digits", "text"), [(12.1415, 2, "12.14"), (0.001, 2, "1.0e-03"), (0.5, 6, "0.500000")]
)
def test_fmt_honours_digits(value, digits, text):
    assert theme.fmt(value, digits) == text


def test_fmt_shows_a_float32_nan_as_a_dash():
    assert theme.fmt(np.float32("nan")) == "—"


def test_safe_label_escapes_html_but_not_quotes():
    assert theme.safe_label("<b>x</b> & 'y'") == "&lt;b&gt;x&lt;/b&gt; &amp; 'y'"
    assert theme.safe_label(3) == "3"


def test_class_colors_cycle_through_the_palette():
    n = len(theme.CLASS_COLORS)
    assert [theme.class_color(c) for c in range(n)] == theme.CLASS_COLORS
    assert theme.class_color(n) == theme.class_color(0)
    assert len(set(theme.CLASS_COLORS)) == n


@pytest.mark.parametrize(
    "text",
    ["**bold** _it_", "[link](javascript:alert(1))", "`code` $x^2$", ":red[loud] :material/home:", "a\\b <i>", "plain"],
)
def test_md_escape_makes_user_text_literal(text):
    escaped = theme.md_escape(text)
    assert re.sub(r"\\(.)", r"\1", escaped) == text  # a Markdown reader gets the text back
    unescaped = re.sub(r"\\.", "", escaped)  # what is left once every escape pair is removed
    assert not set(unescaped) & set("\\`*_{}[]()#+-.!|<>~$:")
