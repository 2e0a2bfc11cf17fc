"""A class at once: N websocket clients on one ``descent serve``, each a student stepping a mission.

    PYTHONPATH=. python benchmarks/classroom_load.py [--students 30] [--steps 20]
        [--arrive 60] [--think 0.3 1.0] [--closed-loop] [--root DIR]

Each client does what a browser tab does (textual-serve's protocol: ``["resize", ...]``
and ``["focus"]`` on open, ``["stdin", keys]`` for keys, terminal bytes back; one
screen frame is one websocket message).  What it models, phase by phase:

1. **Arrival.** Student ``i`` opens the page ``i * arrive / N`` seconds after the
   first (a class trickling in over ``--arrive`` seconds; 0: everyone at once), signs
   in as ``s<i>``, opens the pack's mission (the-bowl), answers its first prediction
   with choice ``i mod 6`` (their own) and skips the second.  Start-up is reported
   apart: page opened to sign-in screen painted, call sign to board, Enter to mission.
2. **Idle.** When every student is in the mission, all wait ``--idle`` seconds: the
   CPU the app processes use while nobody presses anything.
3. **Stepping.** Every student presses the step key ``--steps`` times.  A student
   waits for the step's frame before thinking again: after each answer they think
   for a time drawn uniformly from ``--think LO HI`` seconds (a person stepping a
   mission presses at most every 0.3 to 1 s), then press.  ``--closed-loop`` sets
   the think time to 0 (the next key as soon as the last is answered: a stress
   figure, not a class).  A key's latency is the time from sending it to the first
   screen frame coming back (the frame that answers it); 10 s without one counts
   as unanswered (inf).  CPU per key is the app processes' CPU over the phase
   divided by the keys pressed (it includes the phase's idle cost).
4. **Finish.** Each student turns auto-pause off and runs to the end; then the
   gradebook (``descent report``) must hold exactly one finished, graded row per
   student, and each student's own progress file must hold the prediction choice
   that student made (progress neither lost nor mixed).

CPU is read from ``/proc/PID/stat`` (utime + stime) of the server and of every
process under it.  ``uptime``'s load is printed before and after: the machine may
be shared.  Needs textual-serve (``pip install "descent-tui[serve]"``); not a timed
test.  ``--root`` serves another checkout (to compare two versions side by side).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
WIDTH, HEIGHT = 140, 44
CHOICES = 6  # the-bowl's first prediction has six choices
DOWN, ENTER, ESC = "\x1b[B", "\r", "\x1b"
TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


# ------------------------------------------------------------------ /proc


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def tree(pid: int) -> list[int]:
    """``pid`` and every process under it."""
    parent: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (st := _stat(int(entry))) is not None:
            parent[int(entry)] = int(st[1])
    found, todo = [pid], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        found += kids
        todo += kids
    return found


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of ``pids`` (processes gone since count 0)."""
    total = 0
    for pid in pids:
        st = _stat(pid)
        if st is not None:
            total += int(st[11]) + int(st[12])
    return total / TICK


def load() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# ------------------------------------------------------------------ one student


@dataclass
class Class:
    """What every student shares: the timings, and when each phase may start."""

    n: int
    steps: int
    think: tuple[float, float]
    idle: float
    latencies: list[float] = field(default_factory=list)
    startup: dict[str, list[float]] = field(default_factory=lambda: {
        "page to sign-in": [], "call sign to board": [], "enter to mission": []})
    ready: int = 0
    all_ready: asyncio.Event = field(default_factory=asyncio.Event)
    stepping: asyncio.Event = field(default_factory=asyncio.Event)
    stepped: int = 0
    nudged: int = 0  # runs to the end that needed another "r"
    all_stepped: asyncio.Event = field(default_factory=asyncio.Event)

    def arrived(self) -> None:
        self.ready += 1
        if self.ready == self.n:
            self.all_ready.set()

    def done_stepping(self) -> None:
        self.stepped += 1
        if self.stepped == self.n:
            self.all_stepped.set()


async def _until(ws: aiohttp.ClientWebSocketResponse, marker: str, timeout: float = 120) -> str:
    """Read output until ``marker`` shows in it (a frame that paints the screen awaited)."""
    seen = ""
    end = time.monotonic() + timeout
    while marker not in seen:
        left = end - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no {marker!r} on screen in {timeout:.0f} s")
        msg = await asyncio.wait_for(ws.receive(), timeout=left)
        if msg.type == aiohttp.WSMsgType.BINARY:
            seen = (seen + msg.data.decode("utf-8", "replace"))[-200_000:]
        elif msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
            raise RuntimeError("the session closed")
    return seen


async def _settle(ws: aiohttp.ClientWebSocketResponse, quiet: float = 0.5,
                  cap: float = 30) -> None:
    """Read (and drop) output until none comes for ``quiet`` seconds (at most ``cap``)."""
    end = time.monotonic() + cap
    while (left := end - time.monotonic()) > 0:
        try:
            await asyncio.wait_for(ws.receive(), timeout=min(quiet, left))
        except TimeoutError:
            if left > quiet:
                return


async def _wait_reading(ws: aiohttp.ClientWebSocketResponse, event: asyncio.Event) -> None:
    """Wait for ``event`` while reading (and dropping) what the session sends, as a browser
    tab does: textual-serve pings every 15 s and closes a socket whose pong does not come
    back, and aiohttp answers a ping only inside ``receive()``."""
    while not event.is_set():
        try:
            msg = await asyncio.wait_for(ws.receive(), timeout=0.5)
        except TimeoutError:
            continue
        if msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
            raise RuntimeError("the session closed")


async def _press(ws: aiohttp.ClientWebSocketResponse, keys: str, settle: float = 0.3) -> None:
    await ws.send_json(["stdin", keys])
    await _settle(ws, settle)


STEP = re.compile(r"step (\d+)/")


async def _timed_key(ws: aiohttp.ClientWebSocketResponse, keys: str, after: int
                     ) -> tuple[float, int]:
    """Send ``keys``; seconds until a frame shows a step past ``after`` (the status
    line's new step), and that step; (inf, after) if none comes in 10 s. Any later
    step answers it: under load a key of the sign-in may have stepped too."""
    t0 = time.monotonic()
    await ws.send_json(["stdin", keys])
    seen = ""
    while (left := 10 - (time.monotonic() - t0)) > 0:
        try:
            msg = await asyncio.wait_for(ws.receive(), timeout=left)
        except TimeoutError:
            break
        if msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
            raise RuntimeError("the session closed")
        if msg.type == aiohttp.WSMsgType.BINARY:
            seen = (seen + msg.data.decode("utf-8", "replace"))[-2_000:]
            steps = [int(m) for m in STEP.findall(seen)]
            if steps and max(steps) > after:
                return time.monotonic() - t0, max(steps)
    return float("inf"), after


async def student(url: str, i: int, delay: float, cls: Class) -> None:
    rng = random.Random(i)
    await asyncio.sleep(delay)
    async with aiohttp.ClientSession() as http, http.ws_connect(
            f"{url}/ws?width={WIDTH}&height={HEIGHT}", heartbeat=None) as ws:
        t0 = time.monotonic()
        await ws.send_json(["resize", {"width": WIDTH, "height": HEIGHT}])
        await ws.send_json(["focus"])
        await _until(ws, "CREW SIGN-IN")
        cls.startup["page to sign-in"].append(time.monotonic() - t0)
        await _settle(ws)
        t0 = time.monotonic()
        await ws.send_json(["stdin", f"s{i}\r"])
        await _until(ws, "The Bowl")
        cls.startup["call sign to board"].append(time.monotonic() - t0)
        await _settle(ws)
        t0 = time.monotonic()
        await ws.send_json(["stdin", ENTER])
        await _until(ws, "LANDSCAPE")
        cls.startup["enter to mission"].append(time.monotonic() - t0)
        await _settle(ws, 1.0)
        # the first step asks for predictions: answer now, pick this student's own choice
        # of the first, leave the quiz; the next step asks again: skip (and take that step)
        await _press(ws, " ", 1.0)
        await _press(ws, "a", 1.0)
        for _ in range(i % CHOICES):
            await _press(ws, DOWN, 0.2)
        for keys in (ENTER, ESC, " ", "s"):
            await _press(ws, keys, 1.0)
        cls.arrived()
        await _wait_reading(ws, cls.stepping)
        step = 0  # the latest step this student's screen showed (1 after the sign-in)
        for _ in range(cls.steps):
            await _settle(ws, float("inf"), rng.uniform(*cls.think))  # thinking; drop what comes
            latency, shown = await _timed_key(ws, " ", max(step, 1))
            step = max(step, shown)
            cls.latencies.append(latency)
        cls.done_stepping()
        await _settle(ws, 0.5)
        # the-bowl pauses at its watch-for notes: auto-pause off, then run to the end
        for keys in ("a", "r"):
            await _press(ws, keys, 1.0)
        for _ in range(10):  # a run paused on the way (auto-pause back on: an "a" of the
            try:             # sign-in that a loaded machine gave the screen) runs on at "r"
                await _until(ws, "DONE", timeout=60)
                break
            except TimeoutError:
                cls.nudged += 1
                await _press(ws, "r", 1.0)
        else:
            raise TimeoutError(f"student s{i}: no DONE after ten presses of r")
        await _settle(ws, 2.0)


# ------------------------------------------------------------------ the class


def _env(home: Path, root: Path) -> dict[str, str]:
    env = {**os.environ, "DESCENT_HOME": str(home), "PYTHONPATH": str(root)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # see _compiled
    return env


def _compiled(root: Path) -> None:
    """Byte-compile the served ``descent_tui``, as ``pip install`` does: with no ``.pyc``
    (a checkout run from source under ``PYTHONDONTWRITEBYTECODE``), every session would
    compile every module again, about a second of CPU a student."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(root / "descent_tui")],
                   check=True, env={k: v for k, v in os.environ.items()
                                    if k != "PYTHONDONTWRITEBYTECODE"})


def _serve(home: Path, pack: Path, port: int, root: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "descent_tui", "serve", "--port", str(port),
                             "--class", "load", "--missions", str(pack)], env=_env(home, root),
                            cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _report(home: Path, root: Path) -> list[dict]:
    out = subprocess.run([sys.executable, "-m", "descent_tui", "report", "--class", "load",
                          "--format", "json"], env=_env(home, root), cwd=root,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["rows"]


def _own_choices(home: Path, n: int) -> int:
    """How many students' own progress files hold the first prediction they chose."""
    ok = 0
    for i in range(n):
        path = home / "classes" / "load" / "students" / f"s{i}" / "progress.json"
        try:
            answers = json.loads(path.read_text())["missions"]["the-bowl"]["answers"]
        except (OSError, KeyError, ValueError):
            continue
        ok += answers.get("prediction.0") == i % CHOICES
    return ok


def _ms(values: list[float]) -> str:
    if not values:
        return "none"
    ms = sorted(v * 1000 for v in values)
    p95 = ms[int(0.95 * (len(ms) - 1))]
    return f"median {statistics.median(ms):.0f} ms, p95 {p95:.0f} ms, max {ms[-1]:.0f} ms"


async def _unless_failed(event: asyncio.Event, tasks: asyncio.Future) -> None:
    """Wait for ``event``, unless a student fails first: then raise that failure (the
    others would wait for the failed one for ever, the machine idle)."""
    waiter = asyncio.ensure_future(event.wait())
    await asyncio.wait([waiter, tasks], return_when=asyncio.FIRST_COMPLETED)
    if not waiter.done():
        waiter.cancel()
        await tasks  # raises the student's error (or returns: all finished early)


async def _phases(server: subprocess.Popen[bytes], cls: Class, tasks: asyncio.Future,
                  t0: float) -> dict[str, float]:
    """Wait out arrival, idle and stepping; the CPU of the server's tree in each."""
    cpu: dict[str, float] = {}
    await _unless_failed(cls.all_ready, tasks)
    pids = tree(server.pid)
    cpu["arrival"] = cpu_seconds(pids)
    cpu["arrival wall"] = time.monotonic() - t0
    await asyncio.sleep(cls.idle)
    cpu["idle"] = cpu_seconds(pids) - cpu["arrival"]
    t1 = time.monotonic()
    relay = cpu_seconds([server.pid])
    cls.stepping.set()
    await _unless_failed(cls.all_stepped, tasks)
    cpu["stepping"] = cpu_seconds(pids) - cpu["arrival"] - cpu["idle"]
    cpu["stepping relay"] = cpu_seconds([server.pid]) - relay
    cpu["stepping wall"] = time.monotonic() - t1
    return cpu


def _print_phases(cls: Class, cpu: dict[str, float], n: int, idle: float) -> None:
    """Start-up, idle and stepping, printed as soon as stepping ends (before the finish)."""
    keys = len(cls.latencies)
    print(f"start-up ({cpu['arrival']:.1f} CPU-s for the class, {cpu['arrival'] / n:.2f} a"
          f" student, {cpu['arrival wall']:.0f} s): " + "; ".join(
              f"{k} {_ms(v)}" for k, v in cls.startup.items()))
    print(f"idle: {1000 * cpu['idle'] / idle / n:.1f} ms of CPU a second a student")
    print(f"stepping: {keys} keys in {cpu['stepping wall']:.1f} s, answered in"
          f" {_ms(cls.latencies)}; over 250 ms: {sum(x > 0.25 for x in cls.latencies)};"
          f" {1000 * cpu['stepping'] / max(1, keys):.0f} ms of CPU a key"
          f" ({1000 * cpu['stepping relay'] / max(1, keys):.0f} of them textual-serve's)")


async def main(n: int, steps: int, arrive: float, think: tuple[float, float], idle: float,
               root: Path) -> int:
    tmp = Path(tempfile.mkdtemp())
    pack = tmp / "pack"
    pack.mkdir()
    shutil.copy(ROOT / "scenarios" / "the-bowl.toml", pack)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    print(f"{n} students, think {think[0]}-{think[1]} s, arriving over {arrive:.0f} s;"
          f" serving {root}; load before: {load()}")
    _compiled(root)
    server = _serve(tmp / "home", pack, port, root)
    cls = Class(n, steps, think, idle)
    try:
        for _ in range(100):  # until it listens
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            await asyncio.sleep(0.2)
        t0 = time.monotonic()
        tasks = asyncio.gather(*(student(f"http://localhost:{port}", i, i * arrive / n, cls)
                                 for i in range(n)))
        cpu = await _phases(server, cls, tasks, t0)
        _print_phases(cls, cpu, n, idle)
        await tasks
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
    if cls.nudged:
        print(f"finish: {cls.nudged} runs to the end needed another r")
    rows = _report(tmp / "home", root)
    signs = sorted(r["call_sign"] for r in rows)
    done = sum(r["status"] == "done" and r["last_total"] is not None for r in rows)
    own = _own_choices(tmp / "home", n)
    ok = signs == sorted(f"s{i}" for i in range(n)) and done == n and own == n
    print(f"gradebook: {len(rows)} rows, {done} finished and graded, {own} hold their own"
          f" student's prediction; one per student, none mixed: {ok}; load after: {load()}")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=30)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--arrive", type=float, default=None,
                    help="seconds over which the students open the page (default 2 a student)")
    ap.add_argument("--think", type=float, nargs=2, default=(0.3, 1.0), metavar=("LO", "HI"))
    ap.add_argument("--closed-loop", action="store_true", help="think time 0")
    ap.add_argument("--idle", type=float, default=10.0)
    ap.add_argument("--root", type=Path, default=ROOT, help="the checkout to serve")
    a = ap.parse_args()
    arrive = 2.0 * a.students if a.arrive is None else a.arrive
    think = (0.0, 0.0) if a.closed_loop else tuple(a.think)
    raise SystemExit(asyncio.run(main(a.students, a.steps, arrive, think, a.idle,
                                      a.root.resolve())))
