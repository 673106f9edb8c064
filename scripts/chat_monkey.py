"""Press random keys at the real chat in tmux: questions, every binding, screens opened and
closed mid-answer, and window resizes, with the bundled model. Fails on a traceback, on the app
exiting before it is told to quit, or on a quit that does not end the app.

    python scripts/chat_monkey.py --seconds 1800   # the long run
    python scripts/chat_monkey.py --seconds 90     # the short form CI runs

It uses the data directory in ASSISTANT_DATA_DIR (or a fresh temporary one, which makes the
first minute an indexing run) and writes every screen it saw to --log.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SESSION = "assistant-monkey"
QUESTIONS = [
    "What ANLS score does Vary-toy reach on DocVQA?",
    "What is the reversal curse?",
    "Which papers study grokking?",
    "and on ChartQA?",
    "How many authors wrote the DINO-WM paper?",
    "What is a good recipe for banana bread?",
    "Compare EAGLE-2 with Medusa",
]
KEYS = ["Escape", "C-n", "C-b", "C-o", "C-s", "C-r", "C-y", "C-t", "C-e", "C-x", "F1", "?", "Up", "Down", "Tab",
        "BTab", "Enter", "Enter", "s", "a", "d", "n", "y", "r", "q", "C-d", "C-j", "PageUp", "PageDown", "Home", "End",
        "C-Home", "C-End", "C-Up", "C-Down"]
# Not ctrl+p: the palette lists Textual's own "Quit", which random typing and enter would choose (a
# legitimate exit the run would take for a crash); the palette is driven by the Pilot tests.
SIZES = [(80, 24), (100, 30), (120, 40), (160, 50), (60, 20)]


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout


def alive() -> bool:
    return subprocess.run(["tmux", "has-session", "-t", SESSION], capture_output=True).returncode == 0


def screen() -> str:
    return tmux("capture-pane", "-p", "-t", SESSION)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=90)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--log", type=Path, default=Path(tempfile.gettempdir()) / "chat-monkey.log")
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        print("tmux is not installed", file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    data_dir = os.environ.get("ASSISTANT_DATA_DIR") or tempfile.mkdtemp(prefix="assistant-monkey-")
    exit_file = Path(tempfile.mkdtemp()) / "exit"
    # stderr stays on the pane: Textual draws there, and a traceback would be printed there too
    command = f"ASSISTANT_DATA_DIR={data_dir} {sys.executable} -m assistant; echo $? > {exit_file}; sleep 600"
    if alive():
        tmux("kill-session", "-t", SESSION)
    tmux("new-session", "-d", "-s", SESSION, "-x", "100", "-y", "30", command)
    counts = {"keys": 0, "questions": 0, "resizes": 0}
    started = time.monotonic()
    failure = ""
    with args.log.open("w", encoding="utf-8") as log:
        log.write(f"seed {seed}, data dir {data_dir}\n")
        while time.monotonic() - started < args.seconds:
            roll = rng.random()
            if roll < 0.15:
                tmux("send-keys", "-t", SESSION, "-l", rng.choice(QUESTIONS))
                tmux("send-keys", "-t", SESSION, "Enter")
                counts["questions"] += 1
            elif roll < 0.2:
                width, height = rng.choice(SIZES)
                tmux("resize-window", "-t", SESSION, "-x", str(width), "-y", str(height))
                counts["resizes"] += 1
            else:
                tmux("send-keys", "-t", SESSION, rng.choice(KEYS))
                counts["keys"] += 1
            time.sleep(rng.choice([0.05, 0.2, 0.5, 1.0, 3.0]))
            shown = screen()
            log.write(f"--- {time.monotonic() - started:.1f} s\n{shown}\n")
            if exit_file.exists() or "Traceback" in shown:
                failure = "the app exited or showed a traceback before it was told to quit"
                break
        if not failure:
            tmux("send-keys", "-t", SESSION, "Escape")
            time.sleep(0.5)
            tmux("send-keys", "-t", SESSION, "C-q")
            deadline = time.monotonic() + 60
            while not exit_file.exists() and time.monotonic() < deadline:
                time.sleep(0.5)
            if not exit_file.exists():
                failure = "ctrl+q did not end the app within 60 s"
            elif exit_file.read_text().strip() != "0":
                failure = f"the app exited with status {exit_file.read_text().strip()}"
        last = screen() if alive() else ""
        if "Traceback" in last:
            failure = failure or "a traceback was printed"
        log.write(f"--- after quitting\n{last}\n")
    if alive():
        tmux("kill-session", "-t", SESSION)
    summary = (f"{time.monotonic() - started:.0f} s, seed {seed}: {counts['keys']} keys, {counts['questions']} "
               f"questions, {counts['resizes']} resizes; screens in {args.log}")
    if failure:
        print(f"FAILED: {failure} ({summary})", file=sys.stderr)
        return 1
    print(f"no traceback: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
