"""The ``linli`` command as a user runs it: real processes, real signals, real config dirs.

Every test starts ``python -m linli`` with this interpreter on a copy of ``config_example``
(so the hub's ``.linli/`` state lands in the test's temporary directory).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config_example"

START_TIMEOUT = 15.0
"""Seconds to wait for the hub to say it started (it takes well under one)."""
STOP_BUDGET = 2.0
"""Seconds a signalled hub may take to exit."""
COMMAND_TIMEOUT = 10.0
"""Seconds a one-shot command (check-config, integrations list) may take."""

STARTED = re.compile(
    r"Hub '(?P<name>[^']*)' started in \d+ ms: "
    r"(?P<loaded>\d+) integrations? loaded, (?P<problems>\d+) with problems?"
)
SET_UP = re.compile(r"Set up (?P<domain>\w+) in (?P<ms>\d+) ms")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONIOENCODING"] = "utf-8"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def linli(*args: str | Path, timeout: float = COMMAND_TIMEOUT) -> subprocess.CompletedProcess[str]:
    """Run ``python -m linli ARGS`` to completion."""
    return subprocess.run(
        [sys.executable, "-m", "linli", *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        env=_env(),
        check=False,
    )


class HubProcess:
    """``linli run`` in a subprocess, its stderr read line by line with deadlines."""

    def __init__(self, config_dir: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "linli", "run", "-c", str(config_dir)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=_env(),
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, name="linli stderr", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def __enter__(self) -> HubProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        self._reader.join(timeout=10)
        assert self.proc.stderr is not None
        self.proc.stderr.close()

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, pattern: re.Pattern[str], timeout: float = START_TIMEOUT) -> re.Match[str]:
        """Read stderr until a line matches ``pattern``; fail at the deadline or at EOF."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"no line matching {pattern.pattern!r} in {timeout:g} s:\n{self.log}")
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                self._queue.put(None)  # stay at EOF for later readers
                pytest.fail(
                    f"linli run exited ({self.proc.wait(timeout=5)}) before a line matched "
                    f"{pattern.pattern!r}:\n{self.log}"
                )
            self.lines.append(line)
            if match := pattern.search(line):
                return match

    def wait_started(self) -> re.Match[str]:
        return self.wait_for(STARTED)

    def wait_signal_handlers(self, timeout: float = 5.0) -> None:
        """Wait until the process has its own SIGTERM handler (the hub installs it with SIGINT's).

        Python catches SIGINT from the start, so SIGTERM's disposition is the one that shows
        the hub's handlers are in place.
        """
        status = Path(f"/proc/{self.proc.pid}/status")
        if not status.exists():
            time.sleep(0.5)
            return
        bit = 1 << (signal.SIGTERM - 1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in status.read_text().splitlines():
                if line.startswith("SigCgt:") and int(line.split()[1], 16) & bit:
                    return
            time.sleep(0.01)
        pytest.fail(f"the hub installed no SIGTERM handler in {timeout:g} s:\n{self.log}")

    def stop(self, *signals: signal.Signals, budget: float = STOP_BUDGET) -> int:
        """Send ``signals`` back to back; return the exit code, failing past ``budget``."""
        for sig in signals:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=budget)
        except subprocess.TimeoutExpired:
            names = ", ".join(sig.name for sig in signals)
            pytest.fail(f"still running {budget:g} s after {names}:\n{self.log}")
        while (line := self._queue.get(timeout=5)) is not None:
            self.lines.append(line)
        return code


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A copy of config_example, without any hub state the original may carry."""
    target = tmp_path / "config"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(".linli"))
    return target


@pytest.fixture
def hub_process(config_dir: Path) -> Iterator[HubProcess]:
    with HubProcess(config_dir) as process:
        yield process


def line_number(path: Path, text: str) -> int:
    """Return the 1-based number of the one line of ``path`` that is exactly ``text``."""
    found = [n for n, line in enumerate(path.read_text("utf-8").splitlines(), 1) if line == text]
    assert len(found) == 1, f"expected one line {text!r} in {path.name}, found {found}"
    return found[0]


def replace_line(path: Path, old: str, new: str, *, first: bool = False) -> int:
    """Replace the line ``old`` (the only one, or the first) with ``new``; return its number."""
    lines = path.read_text("utf-8").splitlines()
    found = [n for n, line in enumerate(lines) if line == old]
    assert found, f"no line {old!r} in {path.name}"
    assert first or len(found) == 1, f"line {old!r} is not unique in {path.name}"
    lines[found[0]] = new
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return found[0] + 1


def insert_after(path: Path, anchor: str, new: str) -> int:
    """Insert the line ``new`` after the only line ``anchor``; return the new line's number."""
    number = line_number(path, anchor)
    lines = path.read_text("utf-8").splitlines()
    lines.insert(number, new)
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return number + 1


def errors(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("error: ")]


def list_json(config_dir: Path) -> dict[str, Any]:
    result = linli("integrations", "list", "-c", config_dir, "--json")
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def row(listing: str, domain: str) -> str:
    rows = [line for line in listing.splitlines() if line.split()[:1] == [domain]]
    assert len(rows) == 1, f"expected one row for {domain}:\n{listing}"
    return rows[0]


# ---------------------------------------------------------------------------- linli run


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_run_starts_and_stops_cleanly_on_signal(
    hub_process: HubProcess, config_dir: Path, sig: signal.Signals
) -> None:
    started = hub_process.wait_started()

    assert started["name"]
    assert started["name"] in (config_dir / "configuration.yaml").read_text("utf-8")
    assert started["problems"] == "0", hub_process.log
    set_up = {m["domain"]: int(m["ms"]) for m in map(SET_UP.search, hub_process.lines) if m}
    assert "demo" in set_up, hub_process.log
    assert len(set_up) == int(started["loaded"]), hub_process.log

    hub_process.wait_signal_handlers()
    code = hub_process.stop(sig)

    assert code == 0, hub_process.log
    log = hub_process.log
    assert f"Received {sig.name}, stopping" in log
    assert hub_process.lines[-1].endswith("Stopped"), log
    assert "Traceback" not in log
    assert not [line for line in hub_process.lines if re.search(r"\b(ERROR|CRITICAL)\b", line)]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_signal_while_the_hub_starts_stops_it_cleanly(
    hub_process: HubProcess, sig: signal.Signals
) -> None:
    # The demo is set up; the hub has not yet said it started.
    hub_process.wait_for(SET_UP)

    code = hub_process.stop(sig)

    assert code == 0, hub_process.log
    assert f"Received {sig.name}, stopping" in hub_process.log
    assert hub_process.lines[-1].endswith("Stopped"), hub_process.log


def test_second_signal_while_stopping_exits_at_once(hub_process: HubProcess) -> None:
    hub_process.wait_started()
    hub_process.wait_signal_handlers()

    # Two different signals, so the kernel cannot merge them into one; a clean stop takes
    # tens of milliseconds, the second signal arrives within microseconds of the first.
    code = hub_process.stop(signal.SIGINT, signal.SIGTERM)

    assert code == 130, hub_process.log
    assert re.search(r"Second SIG(INT|TERM): exiting now", hub_process.log), hub_process.log
    assert "Stopped" not in hub_process.log


def test_run_without_configuration_yaml_fails_fast(tmp_path: Path) -> None:
    started = time.monotonic()
    result = linli("run", "-c", tmp_path)

    assert time.monotonic() - started < 5
    assert result.returncode != 0
    assert errors(result.stderr) == [f"error: {tmp_path}: no configuration.yaml in this directory"]
    assert "did not start" in result.stderr
    assert not STARTED.search(result.stderr)


def test_run_with_a_yaml_syntax_error_names_file_and_line(config_dir: Path) -> None:
    line = replace_line(
        config_dir / "configuration.yaml", "  latitude: 28.228", "  latitude: 28.228: north"
    )

    started = time.monotonic()
    result = linli("run", "-c", config_dir)

    assert time.monotonic() - started < 5
    assert result.returncode != 0
    [message] = errors(result.stderr)
    assert message.startswith(f"error: configuration.yaml:{line}: invalid YAML"), message
    assert "did not start" in result.stderr
    assert not STARTED.search(result.stderr)


def test_run_reports_a_missing_secret_once(config_dir: Path) -> None:
    line = replace_line(
        config_dir / "configuration.yaml", "  elevation: 45", "  elevation: !secret elevation"
    )
    (config_dir / "secrets.yaml").write_text("gate_password: hunter2\n", "utf-8")

    result = linli("run", "-c", config_dir)

    assert result.returncode != 0
    assert errors(result.stderr) == [
        f"error: configuration.yaml:{line}: secret 'elevation' is not defined "
        "(looked in secrets.yaml)"
    ]


# ---------------------------------------------------------------------------- check-config


def test_check_config_accepts_the_example(config_dir: Path) -> None:
    result = linli("check-config", "-c", config_dir)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "Configuration is valid."
    assert not (config_dir / ".linli").exists(), "checking must not create hub state"


def _bad_key(config_dir: Path) -> tuple[str, str]:
    line = insert_after(config_dir / "configuration.yaml", "  seed: 42", "  update_intervall: 5")
    return f"configuration.yaml:{line}", "demo.update_intervall: unknown key 'update_intervall'"


def _missing_secret(config_dir: Path) -> tuple[str, str]:
    line = replace_line(
        config_dir / "configuration.yaml", "  elevation: 45", "  elevation: !secret elevation"
    )
    (config_dir / "secrets.yaml").write_text("gate_password: hunter2\n", "utf-8")
    return f"configuration.yaml:{line}", "secret 'elevation' is not defined"


def _include_syntax_error(config_dir: Path) -> tuple[str, str]:
    line = replace_line(
        config_dir / "areas.yaml", "  kind: building", "  kind: building: tower", first=True
    )
    return f"areas.yaml:{line}", "invalid YAML"


PROBLEMS = {
    "bad_key": _bad_key,
    "missing_secret": _missing_secret,
    "include_syntax_error": _include_syntax_error,
}


@pytest.mark.parametrize("problem", PROBLEMS)
def test_check_config_reports_one_problem_with_file_and_line(
    config_dir: Path, problem: str
) -> None:
    where, what = PROBLEMS[problem](config_dir)

    result = linli("check-config", "-c", config_dir)

    assert result.returncode == 1, result.stdout + result.stderr
    [message] = errors(result.stdout)
    assert message.startswith(f"error: {where}: "), message
    assert what in message
    assert "1 problem found." in result.stdout
    assert "Configuration is valid." not in result.stdout


def test_check_config_reports_every_problem_once(config_dir: Path) -> None:
    expected = [make(config_dir) for make in PROBLEMS.values()]

    result = linli("check-config", "-c", config_dir)

    assert result.returncode == 1, result.stdout + result.stderr
    messages = errors(result.stdout)
    assert len(messages) == len(expected), result.stdout
    for where, what in expected:
        [message] = [m for m in messages if m.startswith(f"error: {where}: ")]
        assert what in message
    assert f"{len(expected)} problems found." in result.stdout


def test_check_config_names_an_integration_that_is_not_installed(config_dir: Path) -> None:
    configuration = config_dir / "configuration.yaml"
    with configuration.open("a", encoding="utf-8") as file:
        file.write("\nbike_shed:\n  racks: 4\n")
    line = line_number(configuration, "bike_shed:")

    result = linli("check-config", "-c", config_dir)

    assert result.returncode == 1, result.stdout + result.stderr
    assert errors(result.stdout) == [
        f"error: configuration.yaml:{line}: bike_shed: integration 'bike_shed' "
        "is not installed (pip install linli-bike-shed)"
    ]

    listing = linli("integrations", "list", "-c", config_dir)
    assert listing.returncode == 0, listing.stderr
    assert re.match(r"bike_shed\s+-\s+yes\s+not_installed\b", row(listing.stdout, "bike_shed"))
    assert "pip install linli-bike-shed" in row(listing.stdout, "bike_shed")


def test_check_config_without_configuration_yaml(tmp_path: Path) -> None:
    result = linli("check-config", "-c", tmp_path)

    assert result.returncode != 0
    assert f"{tmp_path}: no configuration.yaml" in result.stderr


# ---------------------------------------------------------------------------- integrations list


def test_integrations_list_before_any_run(config_dir: Path) -> None:
    result = linli("integrations", "list", "-c", config_dir)

    assert result.returncode == 0, result.stderr
    demo = row(result.stdout, "demo")
    assert re.fullmatch(r"demo\s+linli-demo \S+\s+yes\s+installed", demo), demo
    assert "has not run with this config dir yet" in result.stdout

    data = list_json(config_dir)
    assert data["last_run_at"] is None
    [entry] = [item for item in data["integrations"] if item["domain"] == "demo"]
    assert entry["source"] == f"linli-demo {importlib.metadata.version('linli-demo')}"
    assert entry["status"] == "installed"
    assert entry["configured"] is True
    assert entry["reason"] is None
    assert entry["last_run"] == {"status": None, "reason": None, "setup_seconds": None}


def test_integrations_list_while_the_hub_runs(hub_process: HubProcess, config_dir: Path) -> None:
    hub_process.wait_started()
    set_up_ms = next(
        int(m["ms"]) for m in map(SET_UP.search, hub_process.lines) if m and m["domain"] == "demo"
    )

    result = linli("integrations", "list", "-c", config_dir)
    data = list_json(config_dir)

    assert result.returncode == 0, result.stderr
    assert re.search(r"\slast run: loaded in \d+ ms$", row(result.stdout, "demo")), result.stdout
    assert "'last run' is the hub's report of " in result.stdout
    assert abs(data["last_run_at"] - time.time()) < 60
    [entry] = [item for item in data["integrations"] if item["domain"] == "demo"]
    assert entry["last_run"]["status"] == "loaded"
    assert entry["last_run"]["reason"] is None
    assert entry["last_run"]["setup_seconds"] == pytest.approx(set_up_ms / 1000, abs=0.001)

    hub_process.wait_signal_handlers()
    assert hub_process.stop(signal.SIGTERM) == 0, hub_process.log


def test_integrations_list_after_a_run(hub_process: HubProcess, config_dir: Path) -> None:
    hub_process.wait_started()
    hub_process.wait_signal_handlers()
    assert hub_process.stop(signal.SIGINT) == 0, hub_process.log

    result = linli("integrations", "list", "-c", config_dir)
    data = list_json(config_dir)

    assert result.returncode == 0, result.stderr
    assert "'last run' is the hub's report of " in result.stdout
    [entry] = [item for item in data["integrations"] if item["domain"] == "demo"]
    assert entry["last_run"]["setup_seconds"] > 0
    assert re.search(r"\slast run: loaded in \d+ ms$", row(result.stdout, "demo")), result.stdout
    assert entry["last_run"]["status"] == "loaded"


def test_integrations_list_shows_a_failed_integration_and_why(config_dir: Path) -> None:
    line = insert_after(config_dir / "configuration.yaml", "  seed: 42", "  occupancy: 5")
    with HubProcess(config_dir) as process:
        started = process.wait_started()
        assert started["problems"] == "1", process.log
        assert "Setup of demo failed" in process.log
        process.wait_signal_handlers()
        assert process.stop(signal.SIGINT) == 0, process.log

    result = linli("integrations", "list", "-c", config_dir)
    data = list_json(config_dir)

    assert result.returncode == 0, result.stderr
    demo = row(result.stdout, "demo")
    assert re.search(r"\slast run: failed \(invalid configuration: .*occupancy", demo), demo
    assert f"configuration.yaml:{line}" in demo
    [entry] = [item for item in data["integrations"] if item["domain"] == "demo"]
    assert entry["last_run"]["status"] == "failed"
    assert f"configuration.yaml:{line}: demo.occupancy" in entry["last_run"]["reason"]
    assert entry["last_run"]["setup_seconds"] is None


# ---------------------------------------------------------------------------- the command


def test_version() -> None:
    result = linli("--version")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"linli {importlib.metadata.version('linli')}"


def test_help() -> None:
    result = linli("--help")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: linli")
    for command in ("run", "check-config", "integrations"):
        assert command in result.stdout


def test_no_command_is_a_usage_error() -> None:
    result = linli()

    assert result.returncode == 2
    assert result.stderr.startswith("usage: linli")
