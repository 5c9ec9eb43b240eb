"""``promotions_periodic``: the periodic work for cron, each task when due, one run at a time."""

from __future__ import annotations

import fcntl
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from promotions.schedules import BEAT_SCHEDULE

pytestmark = pytest.mark.django_db
ALL = sorted(entry["task"] for entry in BEAT_SCHEDULE.values())


def run(tmp_path, *args: str) -> tuple[str, dict]:
    out = StringIO()
    call_command("promotions_periodic", "--state-file", str(tmp_path / "state.json"), *args, stdout=out, stderr=out)
    return out.getvalue(), json.loads((tmp_path / "state.json").read_text() or "{}")


def ran(output: str) -> list[str]:
    return sorted(line.split(":")[0] for line in output.splitlines() if line.startswith("promotions."))


def test_every_task_runs_the_first_time_and_only_what_is_due_afterwards(tmp_path, monkeypatch):
    from promotions import tasks

    monkeypatch.setattr(tasks.train_models, "run", lambda: None)  # training is tested on its own
    monkeypatch.setattr(tasks.train_uplift_models, "run", lambda: {})
    output, state = run(tmp_path)
    assert ran(output) == ALL and sorted(state) == ALL
    output, state_after = run(tmp_path)
    assert ran(output) == []  # nothing is due a moment later
    state_after["promotions.flush_events"] -= 11  # the 10-second flush falls due first
    (tmp_path / "state.json").write_text(json.dumps(state_after))
    assert ran(run(tmp_path)[0]) == ["promotions.flush_events"]


def test_one_task_on_demand_and_unknown_names_are_refused(tmp_path):
    output, state = run(tmp_path, "--task", "promotions.purge_expired_events")
    assert ran(output) == ["promotions.purge_expired_events"] and list(state) == ["promotions.purge_expired_events"]
    with pytest.raises(CommandError, match="Unknown task 'promotions.nothing'") as refused:
        run(tmp_path, "--task", "promotions.nothing")
    assert refused.value.returncode == 2


def test_a_failing_task_is_reported_and_the_others_still_run(tmp_path, monkeypatch):
    from promotions import tasks

    monkeypatch.setattr(tasks.train_models, "run", lambda: 1 / 0)
    monkeypatch.setattr(tasks.train_uplift_models, "run", lambda: {})
    with pytest.raises(CommandError, match="1 task\\(s\\) failed: promotions.train_models") as failure:
        run(tmp_path)
    assert failure.value.returncode == 1
    state = json.loads((tmp_path / "state.json").read_text())
    assert sorted(state) == ALL


def test_a_second_run_while_one_holds_the_lock_does_nothing(tmp_path):
    path = tmp_path / "state.json"
    with path.open("a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        out = StringIO()
        call_command("promotions_periodic", "--state-file", str(path), stdout=out)
    assert "nothing done" in out.getvalue() and path.read_text() == ""
