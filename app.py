"""xent: the landing page. Run with `streamlit run app.py` (or `./dev app`)."""

import streamlit as st

from ui import nav, share, theme

st.set_page_config(page_title="xent · cross-entropy, explained", page_icon=theme.FAVICON, layout="wide")
nav.sidebar()
share.enter("home")  # so that the page visited next knows the session came from elsewhere

st.title("Cross-entropy, explained by doing")
st.markdown(
    """
Cross-entropy is the loss behind almost every classifier: the model gives a score (a **logit**)
to every class, **softmax** turns the scores into probabilities, and the loss is **−log** of the
probability given to the true class. Here you edit the scores and watch every step, the loss and
its gradient change as you type. Every number is computed by a small numpy library that matches
PyTorch's `torch.nn.functional.cross_entropy` to the last digit, and each page checks itself
against PyTorch live.
"""
)

# Short labels (a page_link label does not wrap), each with its sentence below it.
for path, label, icon, sentence in nav.PAGES[1:]:
    st.page_link(path, label=f"**{label}**", icon=icon)
    st.caption(sentence)

st.divider()
st.caption(
    "Start with the Playground: it opens on the 6 × 3 batch from `torch.manual_seed(42)` that many "
    "tutorials use. Every page's state lives in its URL, so a link (or an embedded iframe) shows exactly "
    "the example you set up."
)
