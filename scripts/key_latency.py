#!/usr/bin/env python3
"""Key-to-screen latency in a real terminal (tmux): how long after `tmux send-keys` the pane
shows the key's effect. A benchmark, not a test: run it by hand on a quiet machine.

    cargo build --release
    scripts/key_latency.py                      # relcon (target/release/relcon) and less
    scripts/key_latency.py --bin target/debug/relcon --presses 40

For each press the pane is captured (with colours: the fleet's selection is a colour) until it
differs from the capture before the press; the first line (the status bar, whose data age
ticks every second) is left out of the comparison. The time includes tmux's own work and one
`capture-pane` round trip (~2-4 ms here), so `less` measured the same way is the reference
for "as fast as a terminal program gets". Presses are 0.1-0.5 s apart, at random.

relcon runs on the built-in simulator with private HOME/XDG dirs; its tick is the default
(1 s, what a user gets), so a key that waits for the tick shows up as ~0.5 s on average.
"""

import argparse
import os
import random
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

W, H = 160, 48


class Pane:
    def __init__(self, socket, command):
        self.socket = socket
        self.tmux("new-session", "-d", "-s", "bench", "-x", str(W), "-y", str(H), command)

    def tmux(self, *args):
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True
        ).stdout

    def screen(self, colours=True):
        args = ["capture-pane", "-p", "-t", "bench"] + (["-e"] if colours else [])
        return self.tmux(*args)

    def body(self):
        """The screen without its first line (relcon's status bar ticks every second)."""
        return self.screen().split("\n", 1)[-1]

    def wait_for(self, text, timeout=60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.screen(colours=False):
                return
            time.sleep(0.05)
        sys.exit(f"`{text}` never appeared:\n{self.screen(colours=False)}")

    def settle(self, quiet=2.0, timeout=60.0):
        """Wait until the body has not changed for `quiet` seconds (the first refresh is in)."""
        deadline = time.monotonic() + timeout
        last, since = self.body(), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            now = self.body()
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return
        sys.exit("the screen never settled")

    def press(self, key, timeout=5.0):
        before = self.body()
        start = time.monotonic()
        self.tmux("send-keys", "-t", "bench", key)
        while time.monotonic() - start < timeout:
            if self.body() != before:
                return (time.monotonic() - start) * 1000.0
        return timeout * 1000.0

    def close(self):
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


def measure(name, command, ready, presses, keys):
    pane = Pane(f"relcon-keylat-{name}-{os.getpid()}", command)
    try:
        pane.wait_for(ready)
        pane.settle()
        times = []
        for i in range(presses):
            # A person's pace: keys at random moments, not in lockstep with the last redraw.
            time.sleep(random.uniform(0.1, 0.5))
            times.append(pane.press(keys[i % len(keys)]))
    finally:
        pane.close()
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    print(
        f"{name:<8} {presses} presses: p50 {statistics.median(times):7.1f} ms   "
        f"p95 {p95:7.1f} ms   max {times[-1]:7.1f} ms"
    )
    return times


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="target/release/relcon", help="the relcon binary")
    ap.add_argument("--presses", type=int, default=20)
    ap.add_argument("--no-less", action="store_true", help="skip the `less` reference")
    a = ap.parse_args()
    home = tempfile.mkdtemp(prefix="relcon-keylat-")
    env = " ".join(
        f"{k}={shlex.quote(v)}"
        for k, v in {
            "HOME": home,
            "XDG_CONFIG_HOME": f"{home}/config",
            "XDG_CACHE_HOME": f"{home}/cache",
            "XDG_STATE_HOME": f"{home}/state",
            "TERM": "xterm-256color",
        }.items()
    )
    relcon = f"env -u RELCON_CONFIG -u NO_COLOR {env} {shlex.quote(os.path.abspath(a.bin))}"
    measure("relcon", relcon, "All plants", a.presses, ["j", "k"])
    if not a.no_less:
        text = os.path.join(home, "lines.txt")
        with open(text, "w") as f:
            f.writelines(f"line {i}\n" for i in range(10000))
        measure("less", f"env {env} less {shlex.quote(text)}", "line 0", a.presses, ["j", "k"])


if __name__ == "__main__":
    main()
