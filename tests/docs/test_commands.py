"""Every command in the README and the getting started page is run, here or by CI.

Each line of a ```sh block in those two files must be one of ``RUN`` (run here, on a throwaway
SQLite database and var folder, with the built-in sample catalogue so that it takes seconds) or
``RUN_BY_CI`` (checked to be exactly what ``.ci/run`` executes). A changed or new command fails
``test_every_documented_command_is_run`` until it is given a way to run.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PAGES = [ROOT / "README.md", ROOT / "docs" / "getting-started.md"]
BIN = Path(sys.executable).parent

DEMO = "python3 -m venv .venv && .venv/bin/pip install -r requirements.txt && .venv/bin/python manage.py demo"
TESTS = "python3 -m venv .venv && .venv/bin/pip install -q -r requirements-dev.txt && .venv/bin/pytest"
INSTALL = "pip install /path/to/this/repository"
MIGRATE_CHECK = "python manage.py migrate && python manage.py check"
DEMO_OPTIONS = ".venv/bin/python manage.py demo --addrport 127.0.0.1:8001 --datasets /path/to/datasets"

RUN = {DEMO, INSTALL, MIGRATE_CHECK, DEMO_OPTIONS}
RUN_BY_CI = {TESTS}


def documented_commands(path: Path) -> list[str]:
    """The lines of the page's ```sh blocks, continuation lines joined and comments dropped."""
    commands = []
    for block in re.findall(r"^```sh\n(.*?)^```", path.read_text(encoding="utf-8"), flags=re.M | re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s+#\s.*$", "", line).strip()
            if line and not line.startswith("#"):
                commands.append(re.sub(r"\s+", " ", line))
    return commands


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_documented_command_is_run(page):
    commands = documented_commands(page)
    assert commands, f"{page.name} shows no command"
    assert [command for command in commands if command not in RUN | RUN_BY_CI] == []


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_the_quick_start_is_the_two_commands_first(page):
    assert documented_commands(page)[:2] == [DEMO, TESTS]


def test_the_test_command_is_the_one_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    (body,) = re.findall(r'^readme_tests\(\) \{ (.*) "\$@"; \}$', ci, flags=re.M)
    assert body == TESTS
    assert re.search(r"^readme_tests$", ci, flags=re.M)  # CI runs it, on SQLite and on PostgreSQL
    # CI's install is the README's demo install plus the development tools.
    assert "-r requirements.txt" in (ROOT / "requirements-dev.txt").read_text(encoding="utf-8").splitlines()


def _local(command: str, tmp_path: Path) -> str:
    """The documented command as run here: this interpreter's venv, throwaway paths."""
    command = command.replace(".venv/bin/python ", f"{shlex.quote(sys.executable)} ")
    command = re.sub(r"(?<![\w/])python ", f"{shlex.quote(sys.executable)} ", command)
    return command.replace("/path/to/datasets", str(tmp_path / "no-datasets"))


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory) -> dict[str, str]:
    """The demo's embedded defaults in a temporary folder, with the built-in sample catalogue.

    One folder for the module: the commands run in the documented order, so the database is
    migrated once (a fresh SQLite migration is most of their time)."""
    tmp_path = tmp_path_factory.mktemp("demo")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_URL", "CELERY_"))}
    env.pop("REDIS_URL", None)
    env.update(SHOP_VAR_DIR=str(tmp_path / "var"), SHOP_DATASETS_DIR=str(tmp_path / "no-datasets"))
    return env


def _run(command: str, env: dict[str, str], timeout: int = 120) -> subprocess.CompletedProcess:
    result = subprocess.run(  # noqa: S603
        ["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result


def test_migrate_and_check(demo_env, tmp_path):
    checked = _run(_local(MIGRATE_CHECK, tmp_path), demo_env)
    assert "System check identified no issues" in checked.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve_and_fetch_home(command: str, env: dict[str, str], url: str, log: Path) -> tuple[str, str]:
    """The home page's HTML once the command serves it, and what the command printed until then."""
    with log.open("w") as output:  # a file, not a pipe: progress bars must never block the demo
        process = subprocess.Popen(  # noqa: S603
            ["bash", "-c", f"exec {command}"], cwd=ROOT, env=env, start_new_session=True, stdout=output, stderr=output
        )
    try:
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
                    return response.read().decode(), log.read_text()
            except OSError:
                time.sleep(0.5)
        pytest.fail(f"{url} did not answer (exit code {process.poll()}):\n{log.read_text()[-3000:]}")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # the demo stops its embedded worker with it
        assert process.wait(timeout=60) in (0, -signal.SIGTERM)


def test_the_quick_start_demo_command_sets_up_and_serves(demo_env, tmp_path):
    # The README's command after the install (which CI's install covers), on another port.
    port = _free_port()
    options = DEMO_OPTIONS.replace("127.0.0.1:8001", f"127.0.0.1:{port}")
    assert _local(DEMO, tmp_path).endswith("manage.py demo")
    command = _local(options, tmp_path)
    home, output = _serve_and_fetch_home(command, demo_env, f"http://127.0.0.1:{port}/", tmp_path / "demo.log")
    assert "Demo shop" in home
    assert "loading the built-in sample catalogue" in output
    assert re.search(r"Model version \d+ \(\w+\) is now active", output)
    assert "Starting the embedded Celery worker and beat" in output


def test_the_install_command_installs_the_app_alone(tmp_path):
    command = INSTALL.replace("pip install", f"{shlex.quote(sys.executable)} -m pip install -q --no-deps "
                              f"--no-build-isolation --target {tmp_path / 'site'}")
    command = command.replace("/path/to/this/repository", shlex.quote(str(ROOT)))
    _run(command, dict(os.environ))
    installed = tmp_path / "site"
    assert (installed / "promotions" / "apps.py").is_file()
    assert (installed / "promotions" / "templates").is_dir()
    assert not (installed / "shop_demo").exists()
