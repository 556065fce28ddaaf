"""Acceptance: ``linli run`` killed with SIGKILL during a stream of writes loses at most the
last commit interval of recorder rows, and no alert or audit row."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from linli.components import BUNDLED

pytestmark = pytest.mark.slow

PLUGIN_DIR = Path(__file__).parent / "killtest_plugin"
COMMIT_INTERVAL = 1.0
SLACK = 0.5
"""Seconds a due commit may take on a busy machine, on top of the interval."""


def read_progress(path: Path) -> tuple[list[tuple[int, float]], list[tuple[str, int]]]:
    states: list[tuple[int, float]] = []
    ledger: list[tuple[str, int]] = []
    for line in path.read_text("utf-8").splitlines():
        parts = line.split()
        if len(parts) != 3:
            continue  # the last line may be cut short by the kill
        if parts[0] == "state":
            states.append((int(parts[1]), float(parts[2])))
        elif parts[0] == "ledger":
            ledger.append((parts[1], int(parts[2])))
    return states, ledger


def test_sigkill_loses_at_most_the_last_commit_interval(tmp_path: Path) -> None:
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    config = (
        "linli:\n  name: Kill test\n  time_zone: UTC\n"
        f"recorder:\n  commit_interval: {COMMIT_INTERVAL}\n"
        "killtest:\n"
    )
    if "http" in BUNDLED:
        config += "http:\n  server_port: 0\n"
    (config_dir / "configuration.yaml").write_text(config, "utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PLUGIN_DIR), env.get("PYTHONPATH")]))
    log = (tmp_path / "linli.log").open("w", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "linli", "run", "-c", str(config_dir)],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    progress = config_dir / "progress.log"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            states, ledger = read_progress(progress) if progress.exists() else ([], [])
            if states and states[-1][1] - states[0][1] >= 2.5 and len(ledger) >= 5:
                break
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        assert proc.poll() is None, (tmp_path / "linli.log").read_text("utf-8")
        killed_at = time.time()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
    assert proc.returncode == -signal.SIGKILL

    states, ledger = read_progress(progress)
    with closing(sqlite3.connect(config_dir / ".linli" / "linli.db")) as conn:
        recorded = [
            int(value)
            for (value,) in conn.execute(
                "SELECT state FROM states JOIN states_meta USING (metadata_id) "
                "WHERE entity_id = 'sensor.kill_counter' ORDER BY state_id"
            )
        ]
        alert_ids = {row[0] for row in conn.execute("SELECT alert_id FROM alerts")}
        audited = {
            int(row[0])
            for row in conn.execute("SELECT subject FROM audit_log WHERE action = 'kill_test'")
        }

    # Recorder rows: a gap-free prefix of the writes, missing at most the last interval.
    assert recorded == list(range(1, len(recorded) + 1))
    must_have = [count for count, at in states if at <= killed_at - COMMIT_INTERVAL - SLACK]
    assert must_have, "the stream ran too briefly to judge"
    assert len(recorded) >= must_have[-1], (
        f"lost states written more than {COMMIT_INTERVAL + SLACK} s before the kill: "
        f"recorded up to {len(recorded)}, must have {must_have[-1]}"
    )
    # Ledger rows: everything that returned before the kill is there.
    assert ledger
    assert {alert_id for alert_id, _ in ledger} <= alert_ids
    assert {count for _, count in ledger} <= audited
