"""End to end in a real headless browser: ``descent serve`` -> call sign -> mission -> quiz
-> ``descent report``.

Needs chromium + chromedriver (Debian: ``apt-get install chromium chromium-driver``),
selenium and textual-serve; skipped, saying which is missing, when one is not installed.
The browser types into the page's terminal (xterm.js) as a student would; the test
then reads the score back from the teacher's gradebook.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("textual_serve", reason="textual-serve not installed (the serve extra)")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium not installed")
BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (BROWSER and DRIVER),
                                reason="no chromium + chromedriver installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _descent(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DESCENT_HOME": str(home), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "descent_tui", *args], env=env,
                          capture_output=True, text=True, timeout=60)


def _wait_until(check, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def served(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A class ``7b`` served on a free port, limited to a pack holding the-bowl."""
    pack = tmp_path / "pack"
    pack.mkdir()
    shutil.copy(ROOT / "scenarios" / "the-bowl.toml", pack)
    home = tmp_path / "home"
    port = _free_port()
    env = {**os.environ, "DESCENT_HOME": str(home), "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, "-m", "descent_tui", "serve", "--port", str(port),
                               "--class", "7b", "--missions", str(pack)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def up() -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    try:
        _wait_until(up, 20, "the server to listen")
        yield f"http://localhost:{port}", home
    finally:
        server.terminate()
        server.wait(timeout=10)


def _browser():  # type: ignore[no-untyped-def]
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = BROWSER
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--window-size=1600,1000"):
        opts.add_argument(flag)
    return webdriver.Chrome(service=Service(DRIVER), options=opts)


def test_a_student_plays_in_the_browser_and_the_teacher_sees_the_score(served) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    url, home = served
    student = home / "classes" / "7b" / "students" / "ada-7" / "progress.json"
    browser = _browser()
    try:
        browser.get(url)
        term = _wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, ".xterm-helper-textarea"),
                           20, "the terminal in the page")[0]
        time.sleep(4)  # the app process starts and draws the sign-in screen

        def keys(*pressed: str, pause: float = 0.6) -> None:
            for k in pressed:
                term.send_keys(k)
                time.sleep(pause)

        keys("Ada-7", Keys.ENTER)       # the call sign
        time.sleep(2)
        keys(Keys.ENTER)                # open the pack's only mission
        _wait_until(student.exists, 20, "the student's progress file (mission opened)")
        time.sleep(2)
        keys(" ")                       # step: the prompt offers the predictions first
        keys("a")                       # answer now: the first prediction has the focus
        keys(Keys.ENTER)                # choose its highlighted answer
        keys(Keys.ESCAPE)               # leave the quiz's focus
        keys("a")                       # auto-pause off: the run goes on past its watch-for notes
        keys("r")                       # run: the prompt offers the other prediction
        keys("s")                       # skip it and run to the end: the quiz is graded

        def graded() -> dict | None:
            done = _descent("report", "--class", "7b", "--format", "json", home=home)
            rows = json.loads(done.stdout)["rows"] if done.returncode == 0 else []
            return next((r for r in rows if r["last_total"]), None)

        row = _wait_until(graded, 60, "a graded quiz in the gradebook")
    finally:
        browser.quit()
    assert row["call_sign"] == "ada-7" and row["mission"] == "the-bowl"
    assert row["status"] == "done"
    assert row["predictions_total"] == 2
    assert "prediction.0" in json.loads(student.read_text())["missions"]["the-bowl"]["answers"]
