"""The reference page of the speed targets, for `python -m bench.browser --pages baseline`.

The playground issue sets its browser targets against "a bare Streamlit page with a 6×3 data
editor, a selectbox, a number input, a slider and three plotly charts". This is that page, written
the plain way: one script, no fragment, no cache, Streamlit's default settings (bench/browser.py
runs it from an empty folder, so the app's .streamlit/config.toml does not apply), figures built
with plotly.graph_objects. Measuring it in the same run as the app turns "twice as fast" into a
ratio taken on one machine at one load, whatever that machine is.

Its arithmetic is inline on purpose: it stands for someone else's page, not for ours (ours keeps
every formula in xent_core).
"""

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

CLASSES = ["cat", "dog", "bird"]
TARGET = np.array([0, 1, 2, 0, 1, 2])

st.title("Cross-entropy, the plain way")
if "logits" not in st.session_state:  # one source table, passed unchanged each run (streamlit#7749)
    st.session_state["logits"] = pd.DataFrame(np.random.default_rng(42).normal(size=(6, 3)), columns=CLASSES)

reduction = st.selectbox("Reduction", ["mean", "sum"])
temperature = st.number_input("Temperature", 0.1, 5.0, 1.0, 0.1)
smoothing = st.slider("Label smoothing", 0.0, 1.0, 0.0, 0.01, key="smoothing")
edited = st.data_editor(st.session_state["logits"], key="editor")

z = edited.to_numpy(dtype=float) / temperature
z = np.nan_to_num(z)
p = np.exp(z - z.max(axis=1, keepdims=True))
p /= p.sum(axis=1, keepdims=True)
y = (1 - smoothing) * np.eye(3)[TARGET] + smoothing / 3
per_sample = -(y * np.log(p)).sum(axis=1)
loss = per_sample.mean() if reduction == "mean" else per_sample.sum()
grad = (p - y) / (len(z) if reduction == "mean" else 1)

st.metric(f"Loss ({reduction})", f"{loss:.4f}")
rows = [f"row {n}" for n in range(len(z))]
probs = go.Figure([go.Bar(name=c, x=rows, y=p[:, k]) for k, c in enumerate(CLASSES)])
probs.update_layout(title="Softmax probabilities", barmode="group", height=320)
st.plotly_chart(probs, key="probs")
losses = go.Figure(go.Bar(x=rows, y=per_sample))
losses.add_hline(y=np.log(3), line_dash="dot")
losses.update_layout(title="Loss per sample", height=320)
st.plotly_chart(losses, key="losses")
heat = go.Figure(go.Heatmap(z=grad, x=CLASSES, y=rows, colorscale="RdBu", zmid=0))
heat.update_layout(title="Gradient with respect to the logits", height=320)
st.plotly_chart(heat, key="grad")
