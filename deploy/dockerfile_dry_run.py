"""Check the Dockerfile without a Docker engine: execute its own instructions in a scratch directory.

    python deploy/dockerfile_dry_run.py [--keep] [--port 8531]

The script reads ../Dockerfile and plays it on this machine: a fresh venv stands for the image's
Python (its version must be the FROM line's), WORKDIR is a scratch directory, COPY copies from the
build context minus .dockerignore's entries, ENV is collected, every RUN runs with the venv first
on PATH, then ENTRYPOINT starts the app with the collected environment, HEALTHCHECK's command must
pass, and every page must answer 200. It prints what it ran and the installed size per package (the
bulk of the image). USER and the useradd RUN line are reported, not executed (they would create
an account on this machine). Nothing here is a copy of the Dockerfile: change the Dockerfile and
this script runs the change.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction; continuation lines joined, comments dropped."""
    out, current = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        current += stripped[:-1] + " " if stripped.endswith("\\") else stripped
        if not stripped.endswith("\\"):
            keyword, _, args = current.partition(" ")
            out.append((keyword.upper(), args.strip()))
            current = ""
    return out


def env_pairs(args: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in shlex.split(args))


def ignored(rel: str, patterns: list[str]) -> bool:
    parts = rel.split("/")
    for pattern in patterns:
        pattern = pattern.rstrip("/").removeprefix("**/")
        if any(fnmatch.fnmatch(p, pattern) for p in parts) or fnmatch.fnmatch(rel, pattern):
            return True
    return False


def copy(src: str, dst: Path, patterns: list[str]) -> None:
    source = ROOT / src
    if source.is_file():
        target = dst if not str(dst).endswith("/") and dst.suffix else dst / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        return
    for path in source.rglob("*"):
        rel = path.relative_to(ROOT).as_posix()
        if path.is_file() and not ignored(rel, patterns):
            target = dst / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the app exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    raise SystemExit(f"no answer from {url} within {timeout:.0f} s")


def site_packages_sizes(venv: Path) -> list[tuple[str, int]]:
    site = next(venv.glob("lib/python*/site-packages"))
    sizes: dict[str, int] = {}
    for entry in site.iterdir():
        name = re.split(r"[-.]", entry.name)[0].lower()
        files = entry.rglob("*") if entry.is_dir() else [entry]
        total = sum(f.stat().st_size for f in files if f.is_file())
        sizes[name] = sizes.get(name, 0) + total
    return sorted(sizes.items(), key=lambda kv: -kv[1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8531, help="where the app listens during the check")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args(argv)

    steps = instructions((ROOT / "Dockerfile").read_text())
    patterns = [p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines() if p.strip() and p[0] != "#"]
    scratch = Path(tempfile.mkdtemp(prefix="xent-docker-"))
    venv = scratch / "python"
    workdir = scratch
    # Fail fast on an unreachable index (download.pytorch.org here) and fall back to pip's other sources.
    env = {"PIP_RETRIES": "0", "PIP_TIMEOUT": "5", **os.environ}
    entrypoint: list[str] = []
    health: list[str] = []
    print(f"scratch directory: {scratch}")
    try:
        for keyword, rest in steps:
            if keyword == "FROM":
                wanted = re.search(r"python:(\d+\.\d+)", rest)
                have = f"{sys.version_info.major}.{sys.version_info.minor}"
                if not wanted or wanted.group(1) != have:
                    raise SystemExit(f"FROM {rest}: this check needs that Python; running {have}")
                subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
                env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
                env["VIRTUAL_ENV"] = str(venv)
                print(f"FROM {rest}: a fresh Python {have} venv")
            elif keyword == "WORKDIR":
                workdir = scratch / rest.lstrip("/")
                workdir.mkdir(parents=True, exist_ok=True)
            elif keyword == "ENV":
                env.update(env_pairs(rest))
            elif keyword == "COPY":
                *sources, dest = shlex.split(rest)
                for src in sources:
                    copy(src.rstrip("/"), workdir / dest if dest != "./" else workdir, patterns)
                print(f"COPY {rest}")
            elif keyword == "RUN":
                if "useradd" in rest:
                    print(f"RUN {rest}\n    (not run: it would add an account to this machine)")
                    continue
                print(f"RUN {rest}")
                started = time.perf_counter()
                subprocess.run(["bash", "-ec", rest], cwd=workdir, env=env, check=True)
                print(f"    done in {time.perf_counter() - started:.0f} s")
            elif keyword == "HEALTHCHECK":
                health = json.loads(rest[rest.index("CMD") + 3 :].strip())
            elif keyword == "ENTRYPOINT":
                entrypoint = json.loads(rest)
            elif keyword in ("USER", "EXPOSE"):
                print(f"{keyword} {rest}: noted (the image's user and port)")
            else:
                raise SystemExit(f"unknown instruction {keyword}: extend this script")

        command = [*entrypoint, f"--server.port={args.port}"]  # the last --server.port wins
        print("ENTRYPOINT", " ".join(command))
        log = open(scratch / "app.log", "w")  # noqa: SIM115 - closed in finally via the process
        proc = subprocess.Popen(command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{args.port}"
            started = time.perf_counter()
            wait_healthy(f"{base}/_stcore/health", proc)
            print(f"health endpoint up after {time.perf_counter() - started:.1f} s")
            check = [c.replace("8501", str(args.port)) for c in health]
            subprocess.run(check, env=env, check=True, timeout=10)
            print("HEALTHCHECK command passed")
            pages = ["", *sorted(p.stem.split("_", 1)[1] for p in (workdir / "pages").glob("*.py"))]
            for page in pages:
                with urllib.request.urlopen(f"{base}/{page}", timeout=10) as response:
                    print(f"GET /{page}: {response.status}")
        finally:
            proc.terminate()
            proc.wait(timeout=15)
            log.close()

        print("\ninstalled size by package (the image adds ~150 MB for python:3.11-slim itself):")
        sizes = site_packages_sizes(venv)
        for name, size in sizes[:8]:
            print(f"  {name:<16} {size / 2**20:7.0f} MiB")
        print(f"  {'all packages':<16} {sum(s for _, s in sizes) / 2**20:7.0f} MiB")
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
