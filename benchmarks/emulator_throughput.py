"""Emulator throughput vs a bare stdlib ``http.server``, measured in the same run.

Starts two server processes on 127.0.0.1:

- the emulator (``python -m django_talon.emulator``, 5 campaigns), answering
  ``PUT /v2/customer_sessions/{id}`` for a 10-item cart with a coupon;
- a baseline: the standard library's ``ThreadingHTTPServer`` with a ``BaseHTTPRequestHandler``
  (HTTP/1.1 keep-alive, ``TCP_NODELAY``) that reads the request body and answers a fixed JSON
  body: the bytes of one real emulator answer, so both send the same amount.

Then drives them from this process over ONE keep-alive connection each (``http.client``), in
interleaved rounds (the order alternates, so a drift in machine load hits both alike), each
bounded by a request count and a time limit, and prints the medians, the emulator/baseline
ratio (median of the per-round ratios) and each server's CPU time per request (from
``/proc``, steadier than rates on a shared machine). Not a test: nothing is asserted.
Target (issue 13): the emulator >= 70% of the baseline.

    .venv/bin/python benchmarks/emulator_throughput.py [--rounds 15] [--requests 1000]
        [--seconds 1] [--verbose] [--wrk] [--profile] [--root OTHER_TREE]

``--wrk`` also drives both servers with ``wrk`` (one thread, one keep-alive connection, the same
50 session updates in turn), when it is installed: a load generator in C spends far less per
request than ``http.client``, so its rates show more of the servers' own cost (its ratio is
lower than this process's). ``--profile`` runs the emulator under cProfile for one extra round and prints its top
functions by own time (profiled rounds are not part of the figures). ``--root`` measures the
emulator of another tree, e.g. an older commit: ``git archive <commit> django_talon | tar -x
-C /tmp/before`` and ``--root /tmp/before`` (this file's load and baseline stay the same).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
#: whose emulator the servers run: this checkout, or another tree given with --root
SERVER_ROOT = [ROOT]
API_KEY = "bench-key"
HOST = "127.0.0.1"  # the only host this benchmark ever talks to

CAMPAIGNS: dict[str, Any] = {
    "application": {"id": 1, "currency": "EUR"},
    "loyaltyPrograms": [{"id": 1, "name": "coffee_club", "title": "Coffee Club"}],
    "campaigns": [
        {
            "id": 1,
            "name": "Welcome 10%",
            "trigger": "coupon",
            "coupons": ["WELCOME10"],
            "effects": [{"type": "setDiscount", "percent": 10}],
        },
        {
            "id": 2,
            "name": "Free tote over 100",
            "conditions": [{"type": "subtotalAtLeast", "amount": 100}],
            "effects": [{"type": "addFreeItem", "sku": "FREE-TOTE", "name": "Canvas tote bag"}],
        },
        {
            "id": 3,
            "name": "Coffee 1 off each",
            "conditions": [{"type": "containsCategory", "category": "coffee"}],
            "effects": [{"type": "setDiscountPerItem", "category": "coffee", "amount": 1}],
        },
        {
            "id": 4,
            "name": "Coffee Club points",
            "effects": [{"type": "addLoyaltyPoints", "programId": 1, "pointsPerAmount": 1}],
        },
        {
            "id": 5,
            "name": "Free shipping notice",
            "conditions": [{"type": "subtotalBelow", "amount": 100}],
            "effects": [
                {"type": "showNotification", "title": "Free tote", "body": "Spend 100 EUR"}
            ],
        },
    ],
}

CART = [
    {
        "sku": f"SKU-{i}",
        "name": f"Item {i}",
        "price": 4.5 + i,
        "quantity": 1 + i % 2,
        "category": "coffee" if i % 3 == 0 else "equipment",
    }
    for i in range(10)
]
SESSIONS = 50  # the load cycles over this many sessions (each update builds on the last)
HEADERS = {"Authorization": f"ApiKey-v1 {API_KEY}", "Content-Type": "application/json"}

#: the baseline server, run with ``python -c``: argv = port, file with the fixed answer body
BASELINE_SERVER = r"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BODY = open(sys.argv[2], "rb").read()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_PUT(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    do_GET = do_PUT

    def log_message(self, format, *args):
        pass


def handle_error(self, request, client_address):
    pass  # wrk closes its connection mid-answer at the end of a run


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer.handle_error = handle_error
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""

#: the emulator under cProfile, run with ``python -c``: argv = port, campaigns, stats file
PROFILED_EMULATOR = r"""
import cProfile, signal, sys
from django_talon.emulator.server import EmulatorServer

def stop(signum, frame):
    raise SystemExit(0)

signal.signal(signal.SIGTERM, stop)
server = EmulatorServer(api_key=sys.argv[4], campaigns=sys.argv[2], port=int(sys.argv[1]))
# cProfile sees one thread: serve each connection on the serving thread (one client anyway)
server._httpd = httpd = server._bind()
httpd.process_request = httpd.process_request_thread
profiler = cProfile.Profile()
profiler.enable()
try:
    server.serve_forever()
finally:
    profiler.disable()
    profiler.dump_stats(sys.argv[3])
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _wait_ready(port: int, proc: subprocess.Popen[bytes], path: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server on port {port} exited during start-up")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=1)
            conn.request("GET", path)
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"the server on port {port} did not start within 30 s")


@contextmanager
def _process(args: list[str], port: int, ready_path: str) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        [sys.executable, *args],
        cwd=SERVER_ROOT[0],
        env={**os.environ, "PYTHONPATH": str(SERVER_ROOT[0])},
    )
    try:
        _wait_ready(port, proc, ready_path)
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _bodies() -> list[bytes]:
    return [
        json.dumps(
            {
                "customerSession": {
                    "profileId": f"bench-{n}",
                    "couponCodes": ["WELCOME10"],
                    "cartItems": CART,
                }
            }
        ).encode()
        for n in range(SESSIONS)
    ]


class _Load:
    """One keep-alive connection to one server, reused across rounds."""

    def __init__(self, port: int, bodies: list[bytes]) -> None:
        self.port = port
        self.bodies = bodies
        self.sent = 0
        self.conn = http.client.HTTPConnection(HOST, port, timeout=10)
        self.conn.connect()
        self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def round(self, max_requests: int, max_seconds: float) -> tuple[float, int]:
        """Session updates per second and how many were sent (bounded in count and time)."""
        done = 0
        started = time.perf_counter()
        stop_at = started + max_seconds
        while done < max_requests and time.perf_counter() < stop_at:
            n = self.sent % SESSIONS
            self.conn.request(
                "PUT", f"/v2/customer_sessions/bench-{n}", body=self.bodies[n], headers=HEADERS
            )
            response = self.conn.getresponse()
            response.read()
            if response.status != 200:
                raise SystemExit(f"unexpected answer {response.status} from port {self.port}")
            done += 1
            self.sent += 1
        return done / (time.perf_counter() - started), done

    def close(self) -> None:
        self.conn.close()


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux ``/proc``; None elsewhere)."""
    split = _cpu_split(pid)
    return None if split is None else split[0] + split[1]


def _cpu_split(pid: int) -> tuple[float, float] | None:
    """(user, system) CPU time of a process (Linux ``/proc``; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def _round(port: int, bodies: list[bytes], max_requests: int, max_seconds: float) -> float:
    """One bounded round on a connection of its own (warm-up, profiling)."""
    load = _Load(port, bodies)
    try:
        return load.round(max_requests, max_seconds)[0]
    finally:
        load.close()


def _one_answer(port: int) -> bytes:
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    conn.request("PUT", "/v2/customer_sessions/bench-0", body=_bodies()[0], headers=HEADERS)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return body


def _profile(tmp: Path, campaigns: Path, bodies: list[bytes], args: argparse.Namespace) -> None:
    import pstats

    port = _free_port()
    stats_file = tmp / "emulator.prof"
    code = [
        "-c",
        PROFILED_EMULATOR,
        str(port),
        str(campaigns),
        str(stats_file),
        API_KEY,
    ]
    with _process(code, port, "/_emulator/health"):
        _round(port, bodies, 300, 1.0)
        _round(port, bodies, args.requests, args.seconds)
    stats = pstats.Stats(str(stats_file))
    stats.sort_stats("tottime").print_stats(25)
    if os.environ.get("BENCH_KEEP_PROFILE"):
        stats.dump_stats(os.environ["BENCH_KEEP_PROFILE"])


def _wrk_script(tmp: Path, bodies: list[bytes]) -> Path:
    """A wrk Lua script sending the same session updates as ``_Load``, in turn."""
    entries = ",\n".join(f"[==[{body.decode()}]==]" for body in bodies)
    script = tmp / "updates.lua"
    script.write_text(
        f"local bodies = {{\n{entries}\n}}\n"
        "local headers = {['Content-Type'] = 'application/json', "
        f"['Authorization'] = 'ApiKey-v1 {API_KEY}'}}\n"
        "local n = 0\n"
        "request = function()\n"
        "  n = n % #bodies + 1\n"
        "  return wrk.format('PUT', '/v2/customer_sessions/bench-' .. (n - 1), headers, bodies[n])\n"
        "end\n"
    )
    return script


def _wrk_round(port: int, script: Path, seconds: float) -> tuple[float, int]:
    """Rate and request count of one wrk run (1 thread, 1 connection) against ``port``."""
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            "-c1",
            f"-d{max(1, round(seconds))}s",
            "-s",
            str(script),
            f"http://{HOST}:{port}/",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"wrk saw error answers from port {port}:\n{out}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    count = re.search(r"(\d+) requests in", out)
    if rate is None or count is None:
        raise SystemExit(f"unexpected wrk output:\n{out}")
    return float(rate.group(1)), int(count.group(1))


def _measure_wrk(
    args: argparse.Namespace, script: Path, emulator: tuple[int, int], baseline: tuple[int, int]
) -> Measured:
    """Interleaved wrk rounds, as ``_measure`` does with this process's connection."""
    servers = {"emulator": emulator, "baseline": baseline}
    rates: Measured = {"emulator": [], "baseline": []}
    cpu = dict.fromkeys(servers, 0.0)
    counts = dict.fromkeys(servers, 0)
    for index in range(args.wrk_rounds):
        order = ["emulator", "baseline"] if index % 2 == 0 else ["baseline", "emulator"]
        for name in order:
            port, pid = servers[name]
            before = _cpu_seconds(pid)
            rate, done = _wrk_round(port, script, args.wrk_seconds)
            after = _cpu_seconds(pid)
            rates[name].append(rate)
            counts[name] += done
            if before is not None and after is not None:
                cpu[name] += after - before
    rates["cpu_ms"] = [cpu[name] * 1000 / max(1, counts[name]) for name in ("emulator", "baseline")]
    return rates


def run(args: argparse.Namespace) -> None:
    bodies = _bodies()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        campaigns = tmp / "bench.json"
        campaigns.write_text(json.dumps(CAMPAIGNS))
        emulator_port, baseline_port = _free_port(), _free_port()
        emulator_cmd = [
            "-m",
            "django_talon.emulator",
            "--port",
            str(emulator_port),
            "--api-key",
            API_KEY,
            "--campaigns",
            str(campaigns),
            "--log-level",
            "WARNING",
        ]
        with _process(emulator_cmd, emulator_port, "/_emulator/health") as emulator_proc:
            answer = _one_answer(emulator_port)
            answer_file = tmp / "answer.json"
            answer_file.write_bytes(answer)
            baseline_cmd = ["-c", BASELINE_SERVER, str(baseline_port), str(answer_file)]
            with _process(baseline_cmd, baseline_port, "/") as baseline_proc:
                # warm-up: both servers, the emulator's sessions exist from here on
                _round(emulator_port, bodies, 500, 1.0)
                _round(baseline_port, bodies, 500, 1.0)
                result = _measure(
                    args,
                    bodies,
                    (emulator_port, emulator_proc.pid),
                    (baseline_port, baseline_proc.pid),
                )
                wrk_result = None
                if args.wrk:
                    wrk_result = _measure_wrk(
                        args,
                        _wrk_script(tmp, bodies),
                        (emulator_port, emulator_proc.pid),
                        (baseline_port, baseline_proc.pid),
                    )
        if args.profile:
            _profile(tmp, campaigns, bodies, args)
    _report(args, len(answer), result)
    if wrk_result is not None:
        _report_wrk(args, wrk_result)


Measured = dict[str, list[float]]


def _measure(
    args: argparse.Namespace,
    bodies: list[bytes],
    emulator: tuple[int, int],
    baseline: tuple[int, int],
) -> Measured:
    """Interleaved rounds (the order alternates, so a drift in machine load hits both alike);
    rates per round, and each server's CPU time per request over all rounds."""
    loads = {"emulator": _Load(emulator[0], bodies), "baseline": _Load(baseline[0], bodies)}
    pids = {"emulator": emulator[1], "baseline": baseline[1]}
    rates: Measured = {"emulator": [], "baseline": []}
    user = dict.fromkeys(loads, 0.0)
    system = dict.fromkeys(loads, 0.0)
    counts = dict.fromkeys(loads, 0)
    try:
        for index in range(args.rounds):
            order = ["emulator", "baseline"] if index % 2 == 0 else ["baseline", "emulator"]
            for name in order:
                before = _cpu_split(pids[name])
                rate, done = loads[name].round(args.requests, args.seconds)
                after = _cpu_split(pids[name])
                rates[name].append(rate)
                counts[name] += done
                if before is not None and after is not None:
                    user[name] += after[0] - before[0]
                    system[name] += after[1] - before[1]
    finally:
        for load in loads.values():
            load.close()
    names = ("emulator", "baseline")
    per_request = {name: 1000 / max(1, counts[name]) for name in names}
    rates["cpu_ms"] = [(user[n] + system[n]) * per_request[n] for n in names]
    rates["user_ms"] = [user[n] * per_request[n] for n in names]
    rates["system_ms"] = [system[n] * per_request[n] for n in names]
    return rates


def _report(args: argparse.Namespace, answer_size: int, result: Measured) -> None:
    emulator, baseline = result["emulator"], result["baseline"]
    ratios = [e / b for e, b in zip(emulator, baseline, strict=True)]
    print(
        f"emulator throughput: PUT /v2/customer_sessions, {len(CART)}-item cart, "
        f"{len(CAMPAIGNS['campaigns'])} campaigns, coupon in session; answer {answer_size} bytes"
    )
    print(
        f"  1 keep-alive connection per server, {args.rounds} interleaved rounds of at most "
        f"{args.requests} updates / {args.seconds:g} s"
    )
    if args.verbose:
        for index, (e, b, r) in enumerate(zip(emulator, baseline, ratios, strict=True)):
            print(f"  round {index + 1:2}: emulator {e:7,.0f}/s  baseline {b:7,.0f}/s  {r:.0%}")
    print(f"  emulator (median)  {statistics.median(emulator):,.0f} updates/s")
    print(
        f"  baseline (median)  {statistics.median(baseline):,.0f} answers/s "
        "(stdlib http.server, the same answer bytes)"
    )
    print(f"  ratio (median)     {statistics.median(ratios):.0%} of the baseline")
    emulator_cpu, baseline_cpu = result["cpu_ms"]
    if emulator_cpu and baseline_cpu:
        print(
            f"  server CPU         emulator {emulator_cpu:.3f} ms, baseline {baseline_cpu:.3f} ms "
            "per request (from /proc; steadier than rates on a busy machine)"
        )
        (emulator_user, baseline_user), (emulator_sys, baseline_sys) = (
            result["user_ms"],
            result["system_ms"],
        )
        print(
            f"    of which user    emulator {emulator_user:.3f} ms, baseline {baseline_user:.3f} ms"
            f"; system (the kernel's share, alike for both): emulator {emulator_sys:.3f} ms, "
            f"baseline {baseline_sys:.3f} ms"
        )


def _report_wrk(args: argparse.Namespace, result: Measured) -> None:
    emulator, baseline = result["emulator"], result["baseline"]
    ratios = [e / b for e, b in zip(emulator, baseline, strict=True)]
    print(
        f"  wrk (1 thread, 1 keep-alive connection, {args.wrk_rounds} interleaved rounds of "
        f"{max(1, round(args.wrk_seconds))} s):"
    )
    if args.verbose:
        for index, (e, b, r) in enumerate(zip(emulator, baseline, ratios, strict=True)):
            print(f"    round {index + 1:2}: emulator {e:7,.0f}/s  baseline {b:7,.0f}/s  {r:.0%}")
    print(f"    emulator (median)  {statistics.median(emulator):,.0f} updates/s")
    print(f"    baseline (median)  {statistics.median(baseline):,.0f} answers/s")
    print(f"    ratio (median)     {statistics.median(ratios):.0%} of the baseline")
    emulator_cpu, baseline_cpu = result["cpu_ms"]
    if emulator_cpu and baseline_cpu:
        print(
            f"    server CPU         emulator {emulator_cpu:.3f} ms, "
            f"baseline {baseline_cpu:.3f} ms per request"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--requests", type=int, default=1000, help="per round and server")
    parser.add_argument("--seconds", type=float, default=1.0, help="per round and server")
    parser.add_argument("--verbose", action="store_true", help="print every round")
    parser.add_argument("--profile", action="store_true", help="cProfile the emulator too")
    parser.add_argument("--wrk", action="store_true", help="also drive both servers with wrk")
    parser.add_argument("--wrk-rounds", type=int, default=5, help="wrk rounds per server")
    parser.add_argument("--wrk-seconds", type=float, default=2.0, help="per wrk round")
    parser.add_argument(
        "--root",
        type=Path,
        default=ROOT,
        help="run the emulator of another tree (e.g. an older commit from `git archive`)",
    )
    args = parser.parse_args()
    if args.wrk and shutil.which("wrk") is None:
        parser.error("--wrk needs wrk on PATH (e.g. apt-get install wrk)")
    SERVER_ROOT[0] = args.root.resolve()
    run(args)


if __name__ == "__main__":
    main()
