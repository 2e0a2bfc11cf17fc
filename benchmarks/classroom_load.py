"""A class at once: N websocket clients on one ``descent serve``, each a student stepping a mission.

    PYTHONPATH=. python benchmarks/classroom_load.py [--students 30] [--steps 20]

Each client does what a browser tab does (textual-serve's protocol: ``["stdin", keys]``
in, terminal bytes out): signs in as ``s<i>``, opens the pack's mission (the-bowl),
answers the first prediction and skips the second, steps it ``--steps`` times one
key at a time, then turns auto-pause off and runs it to the end.  The figure is
the time from a step key to the first screen bytes coming back (the key answered),
over every key of every student.  Afterwards the gradebook must hold exactly one
finished row per student, each in that student's own file.  Needs textual-serve
(``pip install "descent-tui[serve]"``); not a timed test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]


async def _drain(ws: aiohttp.ClientWebSocketResponse, seconds: float) -> None:
    """Read (and drop) the output for ``seconds`` (a blinking cursor is never quiet)."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        try:
            await asyncio.wait_for(ws.receive(), timeout=left)
        except TimeoutError:
            return


async def _key(ws: aiohttp.ClientWebSocketResponse, keys: str) -> float:
    """Send ``keys``; seconds until the first output comes back."""
    t0 = time.monotonic()
    await ws.send_json(["stdin", keys])
    while True:
        try:
            msg = await asyncio.wait_for(ws.receive(), timeout=10)
        except TimeoutError:
            return float("inf")  # not answered in 10 s
        if msg.type == aiohttp.WSMsgType.BINARY:
            return time.monotonic() - t0
        if msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
            raise RuntimeError("the session closed")


async def student(url: str, i: int, steps: int, latencies: list[float]) -> None:
    async with aiohttp.ClientSession() as http, http.ws_connect(
            f"{url}/ws?width=140&height=44") as ws:
        await _drain(ws, 40)                        # the app starts: the sign-in screen
        await ws.send_json(["stdin", f"s{i}\r"])
        await _drain(ws, 5)                         # the board
        await ws.send_json(["stdin", "\r"])
        await _drain(ws, 20)                        # the mission opens
        await ws.send_json(["stdin", " "])          # the first step asks for predictions
        await _drain(ws, 3)
        # answer the first now, choose, leave the quiz; the next step asks for the
        # second: skip it (and take that step)
        for keys in ("a", "\r", "\x1b", " ", "s"):
            await ws.send_json(["stdin", keys])
            await _drain(ws, 1)
        for _ in range(steps):
            latencies.append(await _key(ws, " "))
            await _drain(ws, 0.4)
        # the-bowl pauses at its watch-for notes: auto-pause off, then run
        for keys in ("a", "r"):
            await ws.send_json(["stdin", keys])
            await _drain(ws, 1)
        await _drain(ws, 90)                        # to the end: status done, quiz graded


def _serve(home: Path, pack: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DESCENT_HOME": str(home), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "descent_tui", "serve", "--port", str(port),
                             "--class", "load", "--missions", str(pack)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _report(home: Path) -> list[dict]:
    env = {**os.environ, "DESCENT_HOME": str(home), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "descent_tui", "report", "--class", "load",
                          "--format", "json"], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["rows"]


async def main(n: int, steps: int) -> int:
    tmp = Path(tempfile.mkdtemp())
    pack = tmp / "pack"
    pack.mkdir()
    shutil.copy(ROOT / "scenarios" / "the-bowl.toml", pack)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = _serve(tmp / "home", pack, port)
    try:
        for _ in range(100):  # until it listens
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            await asyncio.sleep(0.2)
        latencies: list[float] = []
        t0 = time.monotonic()
        await asyncio.gather(*(student(f"http://localhost:{port}", i, steps, latencies)
                               for i in range(n)))
        wall = time.monotonic() - t0
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
    rows = _report(tmp / "home")
    ms = sorted(x * 1000 for x in latencies)
    p95 = ms[int(0.95 * (len(ms) - 1))]
    print(f"{n} students x {steps} step keys in {wall:.1f} s: key answered in median"
          f" {statistics.median(ms):.0f} ms, p95 {p95:.0f} ms, max {ms[-1]:.0f} ms;"
          f" over 250 ms: {sum(x > 250 for x in ms)} of {len(ms)}")
    signs = sorted(r["call_sign"] for r in rows)
    done = sum(r["status"] == "done" and r["last_total"] is not None for r in rows)
    ok = signs == sorted(f"s{i}" for i in range(n)) and done == n
    print(f"gradebook: {len(rows)} rows, {done} finished and graded, one per student: {ok}")
    return 0 if ok else 1


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=30)
    ap.add_argument("--steps", type=int, default=20)
    a = ap.parse_args()
    raise SystemExit(asyncio.run(main(a.students, a.steps)))
