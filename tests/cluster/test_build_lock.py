"""tests/cluster/build.py: one builder per bench cache at a time.

No Go is run here: each builder is a process whose build step is a stand-in that writes the
binaries after a pause. A second builder started meanwhile says that it waits, then finds
the binaries built and builds nothing; a builder that was killed leaves no lock behind.
"""

import os
import signal
import subprocess
import sys
import time

import build

HERE = os.path.dirname(os.path.abspath(__file__))
# Every program of the bench, as the builders name them (sorted): an empty cache misses them all.
ALL = ", ".join(sorted(build.binary_paths(build.read_versions(), "/nonexistent")))

# A builder process: build.build() with a stand-in for the Go builds (build_missing), which
# says that it builds, waits for the file `release` to appear, then writes the binaries.
BUILDER = r"""
import os, sys, time
sys.path.insert(0, %(here)r)
import build
build.LOCK_POLL = 0.05

def stand_in(versions, cache, log, missing):
    log("stand-in build: " + ",".join(missing))
    while not os.path.exists(%(release)r):
        time.sleep(0.05)
    for name in missing:
        path = build.binary_paths(versions, cache)[name]
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write("#!/bin/sh\n")
        os.chmod(path, 0o755)

build.build_missing = stand_in
build.build(build.read_versions(), cache=%(cache)r, log=lambda line: print(line, flush=True))
print("builder done", flush=True)
"""


def start_builder(cache, release):
    code = BUILDER % {"here": HERE, "cache": str(cache), "release": str(release)}
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def wait_for_line(proc, text, timeout=30):
    """Lines the process printed up to and including the first that holds text."""
    lines = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if text in line:
            return lines
    raise AssertionError("no line with %r within %ss: %r" % (text, timeout, lines))


def test_a_second_builder_waits_for_the_first_then_finds_the_binaries_built(tmp_path):
    cache, release = tmp_path / "cache", tmp_path / "release"
    first = start_builder(cache, release)
    second = None
    try:
        wait_for_line(first, "stand-in build:")  # the first holds the lock now
        second = start_builder(cache, release)
        waiting = wait_for_line(second, "bench build: waiting for the other build")
        assert "into %s (pid %d, since " % (cache, first.pid) in waiting[-1]
        release.touch()
        assert first.wait(timeout=30) == 0
        rest = second.communicate(timeout=30)[0]
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
    assert "stand-in build:" not in rest  # the second built nothing
    assert "bench build: the other build built %s\n" % ALL in rest
    assert rest.rstrip().endswith("builder done")
    assert build.missing_binaries(build.read_versions(), str(cache)) == []


def test_a_killed_builder_leaves_no_lock_behind(tmp_path):
    cache, release = tmp_path / "cache", tmp_path / "release"
    first = start_builder(cache, release)
    try:
        wait_for_line(first, "stand-in build:")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        release.touch()
        second = start_builder(cache, release)
        out = second.communicate(timeout=30)[0]
    finally:
        if first.poll() is None:
            first.kill()
    assert "waiting for the other build" not in out
    assert "stand-in build: %s\n" % ALL in out.replace(",", ", ")
    assert build.missing_binaries(build.read_versions(), str(cache)) == []
