"""bench/baseline_page.py, the reference page bench/browser.py measures beside the app: it must run and
answer each of its inputs, or the benchmark's comparison means nothing."""

import pytest
import torch
import torch.nn.functional as F
from streamlit.testing.v1 import AppTest

from tests.app.conftest import ROOT

TARGET = torch.tensor([0, 1, 2, 0, 1, 2])


@pytest.fixture
def baseline() -> AppTest:
    at = AppTest.from_file(str(ROOT / "bench" / "baseline_page.py"), default_timeout=60)
    at.run()
    assert not at.exception
    return at


def shown_loss(at: AppTest) -> float:
    (metric,) = at.metric
    return float(metric.value)


def test_each_input_changes_the_loss_as_torch_computes_it(baseline):
    at = baseline
    logits = torch.tensor(at.session_state["logits"].to_numpy())
    assert shown_loss(at) == pytest.approx(F.cross_entropy(logits, TARGET).item(), abs=1e-4)
    at.selectbox[0].set_value("sum")
    at.number_input[0].set_value(2.0)
    at.slider(key="smoothing").set_value(0.1)
    at.run()
    expected = F.cross_entropy(logits / 2.0, TARGET, reduction="sum", label_smoothing=0.1).item()
    assert shown_loss(at) == pytest.approx(expected, abs=1e-4)
    assert len(at.get("plotly_chart")) == 3
