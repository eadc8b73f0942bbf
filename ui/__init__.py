"""Shared Streamlit and plotly pieces for the pages. Imports xent_core, never the reverse.

theme (palette, number formats), figures (pure plotly builders), state (the playground's state and
its URL encoding), editors (the logits/target editor widgets), torch_check (the live torch
cross-check and the equivalent-PyTorch-code snippet).
"""
