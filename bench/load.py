"""How many concurrent sessions one replica (one `streamlit run` process) holds: a load generator that speaks
Streamlit's websocket protocol.

    python -m bench.load [--sessions 10 25 50] [--duration 25] [--widget smoothing|reduction]

What it measures. For each load level N a fresh server is started as the browser tests start it
(tests/browser/harness.py: `streamlit run app.py` on a free loopback port, our .streamlit/config.toml,
so XSRF protection is on). One warm-up visitor opens the playground and makes a few edits (imports,
torch's first call and the caches are paid there) and then stays connected, idle; the server's RSS at
that point is the baseline RSS_0. Then N simulated visitors open /Playground within ~2 s, and each of
them, from a random phase, edits the page once a second for --duration seconds: the label-smoothing
slider (key "smoothing", 0.3 ↔ 0.0) or the reduction selectbox (key "reduction", sum ↔ mean). Every
edit changes the loss, and the harness checks that it did.

A visitor does what the browser's websocket connection does, over one asyncio event loop:
  * GET /_stcore/health, which sets the `_streamlit_xsrf` cookie; then the websocket to
    /_stcore/stream with that cookie, a same-origin `Origin` header and the subprotocols
    ["streamlit", <the cookie's value>]: the frontend passes the XSRF token as the second subprotocol
    entry (a third, the previous session id, only on reconnect). The server refuses an Origin that is
    neither the Host nor an allowed origin; with Streamlit 1.67's Starlette server a missing or wrong
    token does not refuse the socket, it only keeps the auth cookie from being read, so the harness
    sends the right one, as the browser does. permessage-deflate is negotiated, as browsers do.
  * The first BackMsg is `rerun_script` with page_name "Playground" (a pages-directory app resolves
    the page from the URL path), an empty query string and the browser's context (timezone, locale,
    URL, colour scheme). The server answers with new_session (which names the page's
    page_script_hash), deltas, page_info_changed (the URL's new query string) and script_finished.
  * An edit is `rerun_script` with the page's page_script_hash, the query string of the browser's
    address bar (the server's last page_info_changed, with the edited widget's parameter set as the
    frontend writes it for `bind="query-params"`: `smoothing=0.3`, none at the default), the
    widget's new value in widget_states (its id is the element id the server sent,
    `$$ID-<hash>-<key>`; a slider's value is a double_array_value, a selectbox's a string_value), the
    widget's fragment_id (the playground's controls live in an `@st.fragment`, so an edit reruns only
    the fragment, as in the browser) and cached_message_hashes: the hashes of the cacheable messages
    received so far, for which the server sends a short ref_hash message instead of the element (on
    the playground none is cacheable: every message is under global.minCachedMessageSize, 10 kB).
  * latency = script_finished received - rerun_script sent: the server-side edit latency as a user
    waits for it (queueing behind other sessions' reruns, the fragment rerun, serialisation,
    compression and the loopback transfer), without the browser's parsing and drawing.

An edit whose script_finished is not a successful run, whose run sends an exception element, whose
loss metric did not change, or that takes over 30 s, is an error. A visitor edits again at its next
whole-second tick after the previous edit completed (a user waits for the result), so once an edit
takes longer than a second the offered rate falls: the "edits/s" column shows what was achieved.

Memory per session = (RSS_N - RSS_0) / N, with RSS from /proc/<pid>/status (VmRSS) of the server,
read once all N sessions have finished their first run and again at the end of the edits (the larger
is reported). Server CPU is the server process's user+system time over the edit phase as a share of
one core (the GIL keeps its Python work near one core); load generator CPU is this process's own.

Limits.
  * Visitors and server share the machine's cores: the load generator's own CPU (protobuf parsing,
    inflating every message) competes with the server's, so the figures are pessimistic on a 2-core box.
  * The browser also sends its other widgets' states with every edit and a heartbeat every few
    seconds; here widget_states holds only the edited widget (the server keeps the others' values in
    session state, so the run is the same).
  * One edit kind per run; a data-editor edit or a "Samples" change reruns more (bench/app.py times
    the script runs alone, bench/browser.py one browser's edit-to-screen latency).
  * RSS counts what the allocator keeps; Python rarely returns memory to the OS, so the figure is what
    a replica needs to be given, not what a session's objects occupy. The warm-up leaves free space in
    the heap that the first sessions fill without growing RSS, so at small N the figure is a floor.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.browser.harness import app_server

PAGE = "Playground"
EDIT_TIMEOUT = 30.0  # s; an edit that takes longer is an error
OPEN_TIMEOUT = 60.0  # s; the first run of a session, including queueing behind the others
WIDGETS = {  # key: (element type, the two values an edit alternates between; the second is the default)
    "smoothing": ("slider", (0.3, 0.0)),
    "reduction": ("selectbox", ("sum", "mean")),
}


def _proto():
    """streamlit.proto, imported on first use (importing it imports streamlit)."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    return BackMsg, ForwardMsg


class EditError(RuntimeError):
    """An edit that did not give a fresh, successful result."""


@dataclass
class Visitor:
    """One simulated browser tab on the playground, over its own websocket."""

    base: str  # http://127.0.0.1:<port>
    widget: str  # a key of WIDGETS
    page_hash: str = ""
    query_string: str = ""  # the last query string the server sent (page_info_changed)
    bound: str = ""  # the edited widget's query parameter, as the browser writes it into the URL ("" = none)
    widget_id: str = ""
    fragment_id: str = ""
    metric: str = ""  # the loss metric's text after the last run
    exception: bool = False  # the last run sent an exception element
    cached: set[str] = field(default_factory=set)  # hashes of cacheable messages received
    latencies: list[float] = field(default_factory=list)  # s
    errors: list[str] = field(default_factory=list)
    open_s: float = 0.0
    _ws: object = None
    _finished: asyncio.Future | None = None
    _reader: asyncio.Task | None = None
    _edits: int = 0

    async def open(self) -> None:
        """Connect as the frontend does and wait for the page's first run."""
        start = time.perf_counter()
        cookie = await asyncio.to_thread(_xsrf_cookie, self.base)
        host = urlsplit(self.base).netloc
        self._ws = await connect(
            f"ws://{host}/_stcore/stream",
            subprotocols=["streamlit", cookie],
            additional_headers={"Origin": self.base, "Cookie": f"_streamlit_xsrf={cookie}"},
            max_size=None,
            open_timeout=OPEN_TIMEOUT,
        )
        self._reader = asyncio.create_task(self._read())
        await self._run(page_name=PAGE, timeout=OPEN_TIMEOUT)
        if not (self.page_hash and self.widget_id and self.metric):
            raise EditError(f"the first run did not show the page (hash {self.page_hash!r}, widget {self.widget_id!r})")
        self.open_s = time.perf_counter() - start

    async def edit(self) -> None:
        """Change the widget once; record the latency to script_finished, or an error."""
        _, values = WIDGETS[self.widget]
        value = values[self._edits % 2]
        self._edits += 1
        before = self.metric
        start = time.perf_counter()
        try:
            await self._run(widget_value=value, timeout=EDIT_TIMEOUT)
            if self.metric == before:
                raise EditError(f"the loss did not change ({before!r})")
        except (EditError, TimeoutError, ConnectionClosed) as err:
            self.errors.append(f"{type(err).__name__}: {err}")
            return
        self.latencies.append(time.perf_counter() - start)

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()

    async def _run(self, *, page_name: str = "", widget_value=None, timeout: float) -> None:
        """Send one rerun_script and wait for its script_finished."""
        BackMsg, _ = _proto()
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.address_query()
        state.page_script_hash = self.page_hash
        state.page_name = page_name
        state.cached_message_hashes.extend(sorted(self.cached))
        context = state.context_info
        context.timezone, context.timezone_offset, context.locale = "UTC", 0, "en-US"
        context.url, context.is_embedded, context.color_scheme = f"{self.base}/{PAGE}", False, "light"
        if widget_value is not None:
            # A bound widget's new value goes into the address bar before the rerun is sent.
            _, values = WIDGETS[self.widget]
            self.bound = "" if widget_value == values[1] else urlencode({self.widget: widget_value})
            state.query_string = self.address_query()
            widget = state.widget_states.widgets.add()
            widget.id = self.widget_id
            if isinstance(widget_value, str):
                widget.string_value = widget_value
            else:
                widget.double_array_value.data.append(widget_value)
            state.fragment_id = self.fragment_id
        self.exception = False
        self._finished = asyncio.get_running_loop().create_future()
        await self._ws.send(msg.SerializeToString())
        status = await asyncio.wait_for(self._finished, timeout)
        if status not in {0, 3}:  # FINISHED_SUCCESSFULLY, FINISHED_FRAGMENT_RUN_SUCCESSFULLY
            raise EditError(f"script_finished with status {status}")
        if self.exception:
            raise EditError("the run showed an exception")

    def address_query(self) -> str:
        """The query string in the browser's address bar: the server's, with the bound widget's parameter
        as the frontend writes it (`bind="query-params"`: set on an edit, removed at the default value)."""
        kept = [(k, v) for k, v in parse_qsl(self.query_string, keep_blank_values=True) if k != self.widget]
        return "&".join(filter(None, [urlencode(kept), self.bound]))

    async def _read(self) -> None:
        """Handle every ForwardMsg the server sends: remember what the browser would, resolve runs."""
        _, ForwardMsg = _proto()
        kind, _ = WIDGETS[self.widget]
        try:
            async for data in self._ws:
                msg = ForwardMsg()
                msg.ParseFromString(data)
                if msg.metadata.cacheable and msg.hash:
                    self.cached.add(msg.hash)
                what = msg.WhichOneof("type")
                if what == "new_session":
                    self.page_hash = msg.new_session.page_script_hash
                elif what == "page_info_changed":
                    self.query_string = msg.page_info_changed.query_string
                elif what == "delta" and msg.delta.WhichOneof("type") == "new_element":
                    element = msg.delta.new_element
                    element_type = element.WhichOneof("type")
                    if element_type == "exception":
                        self.exception = True
                    elif element_type == "metric":
                        self.metric = element.metric.body
                    elif element_type == kind and getattr(element, kind).id.endswith(f"-{self.widget}"):
                        self.widget_id = getattr(element, kind).id
                        self.fragment_id = msg.delta.fragment_id
                elif what == "script_finished" and self._finished is not None and not self._finished.done():
                    self._finished.set_result(msg.script_finished)
        except ConnectionClosed:
            pass
        if self._finished is not None and not self._finished.done():
            self._finished.set_exception(ConnectionClosed(None, None))


def _xsrf_cookie(base: str) -> str:
    """The `_streamlit_xsrf` cookie the health endpoint sets (the frontend pings it before connecting)."""
    with urllib.request.urlopen(f"{base}/_stcore/health", timeout=10) as response:
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            if name.strip() == "_streamlit_xsrf":
                return rest.split(";", 1)[0].strip('"')
    raise RuntimeError("the server set no _streamlit_xsrf cookie: is server.enableXsrfProtection on?")


# ------------------------------------------------------------------------------------------- server


def server_pid() -> int:
    """The pid of our child `streamlit run` process (the one app_server started)."""
    me = str(os.getpid())
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if stat.rsplit(")", 1)[1].split()[1] == me and b"streamlit" in cmdline:
            return int(entry.name)
    raise RuntimeError("no streamlit child process found")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


# -------------------------------------------------------------------------------------------- level


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def visit(visitor: Visitor, until: float) -> None:
    """Edit once per whole-second tick from a random phase until `until` (loop time)."""
    loop = asyncio.get_running_loop()
    next_edit = loop.time() + random.random()
    while True:
        await asyncio.sleep(max(0.0, next_edit - loop.time()))
        if loop.time() >= until:
            return
        await visitor.edit()
        while next_edit <= loop.time():
            next_edit += 1.0


async def level(base: str, sessions: int, duration: float, widget: str, log) -> dict:
    pid = server_pid()
    rss_cold = rss_mib(pid)
    warm = Visitor(base, widget)
    await warm.open()
    for _ in range(4):
        await warm.edit()
    if warm.errors:
        raise RuntimeError(f"warm-up edits failed: {warm.errors}")
    await asyncio.sleep(1.0)
    rss_0 = rss_mib(pid)
    log(f"  {sessions} sessions: RSS cold {rss_cold:.0f} MiB, warm {rss_0:.0f} MiB; opening")

    visitors = [Visitor(base, widget) for _ in range(sessions)]

    async def open_one(i: int, v: Visitor) -> BaseException | None:
        await asyncio.sleep(2.0 * i / sessions)  # a class arriving within ~2 s
        try:
            await v.open()
        except (EditError, TimeoutError, ConnectionClosed, OSError) as err:
            return err
        return None

    failures = [err for err in await asyncio.gather(*(open_one(i, v) for i, v in enumerate(visitors))) if err]
    opened = [v for v in visitors if v.open_s]
    await asyncio.sleep(1.0)
    rss_open = rss_mib(pid)
    log(f"  {len(opened)}/{sessions} open, RSS {rss_open:.0f} MiB; editing for {duration:.0f} s")

    loop = asyncio.get_running_loop()
    cpu_start, own_start, wall_start = cpu_seconds(pid), time.process_time(), loop.time()
    await asyncio.gather(*(visit(v, wall_start + duration) for v in opened))
    wall = loop.time() - wall_start
    cpu, own_cpu = (cpu_seconds(pid) - cpu_start) / wall, (time.process_time() - own_start) / wall
    rss_end = rss_mib(pid)
    for v in [*visitors, warm]:
        await v.close()

    latencies = [s * 1000 for v in opened for s in v.latencies]
    errors = [e for v in opened for e in v.errors] + [f"open: {err!r}" for err in failures]
    for message in sorted(set(errors))[:5]:
        log(f"    error: {message}")
    rss_n = max(rss_open, rss_end)
    return {
        "sessions": sessions,
        "edits": len(latencies),
        "edits_per_s": len(latencies) / duration,
        "p50_ms": statistics.median(latencies) if latencies else float("nan"),
        "p95_ms": percentile(latencies, 0.95) if latencies else float("nan"),
        "max_ms": max(latencies, default=float("nan")),
        "errors": len(errors),
        "open_p95_s": percentile([v.open_s for v in opened], 0.95) if opened else float("nan"),
        "rss_0_mib": rss_0,
        "rss_n_mib": rss_n,
        "per_session_mib": (rss_n - rss_0) / sessions,
        "server_cpu": cpu,
        "client_cpu": own_cpu,
    }


def markdown(rows: list[dict]) -> str:
    lines = [
        "| sessions | edits (per s) | edit p50 | edit p95 | max | errors | open p95 | RSS: warm → with N "
        "| memory per session | server CPU | load generator CPU |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['sessions']} | {r['edits']} ({r['edits_per_s']:.1f}) | {r['p50_ms']:.0f} ms | {r['p95_ms']:.0f} ms "
            f"| {r['max_ms']:.0f} ms | {r['errors']} | {r['open_p95_s']:.1f} s "
            f"| {r['rss_0_mib']:.0f} → {r['rss_n_mib']:.0f} MiB | {r['per_session_mib']:.1f} MiB "
            f"| {100 * r['server_cpu']:.0f}% | {100 * r['client_cpu']:.0f}% |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[10, 25, 50], help="load levels (10 25 50)")
    parser.add_argument("--duration", type=float, default=25.0, help="seconds of edits per level (25)")
    parser.add_argument("--widget", choices=list(WIDGETS), default="smoothing", help="what each edit changes")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    random.seed(args.seed)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    rows = []
    load_start = os.getloadavg()
    for n in args.sessions:
        with app_server() as base:  # a fresh server per level: no memory left over from the last one
            rows.append(asyncio.run(level(base, n, args.duration, args.widget, log)))
    load_end = os.getloadavg()
    print(markdown(rows))
    print(
        f"\n{platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}; edit: {args.widget}, "
        f"{args.duration:.0f} s per level; load average {load_start[0]:.2f} at start, {load_end[0]:.2f} at end "
        f"(1 min; at start 5 min {load_start[1]:.2f}, 15 min {load_start[2]:.2f})."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
