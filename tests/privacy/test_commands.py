"""``promotions_export_user`` and ``promotions_erase_user``: JSON out, counts, and exit code 2 on bad input."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from django.core.management import call_command, load_command_class
from django.db import connections

from promotions.tracking.models import Event, Visitor

from .conftest import ALICE_COOKIE, ALICE_CUSTOMER, BOB_COOKIE

pytestmark = pytest.mark.django_db


def run(capsys, name: str, *args) -> tuple[int, str, str]:
    """Run a command as ``manage.py`` does: (exit code, stdout, stderr)."""
    command = load_command_class("promotions", name)
    # run_from_argv closes the database connections when done, which would end the test's
    # transaction on PostgreSQL (SQLite's in-memory test database ignores it).
    with pytest.raises(SystemExit) as exit_info, mock.patch.object(connections, "close_all"):
        command.run_from_argv(["manage.py", name, *map(str, args)])
        raise SystemExit(0)  # a command that succeeds returns instead of exiting
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def test_export_writes_json_to_stdout(alice, capsys):
    code, out, _err = run(capsys, "promotions_export_user", "--visitor", ALICE_CUSTOMER)
    data = json.loads(out)
    assert code == 0
    assert data["user"]["id"] == alice.pk and len(data["sections"]["events"]) == 4


def test_export_writes_json_to_a_file(alice, tmp_path):
    path = tmp_path / "alice.json"
    call_command("promotions_export_user", "--email", "ALICE@example.com", "--output", str(path))
    assert json.loads(path.read_text(encoding="utf-8"))["identities"] == [ALICE_COOKIE, "ext:" + ALICE_CUSTOMER]


@pytest.mark.parametrize("name", ["promotions_export_user", "promotions_erase_user"])
@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "exactly one"),
        (("--user", "1", "--visitor", ALICE_COOKIE), "exactly one"),
        (("--user", "abc"), "must be a number"),
        (("--user", "99999"), "no user with id 99999"),
        (("--email", "nobody@example.com"), "no user with the e-mail address nobody@example.com"),
        (("--visitor", "nobody"), "no visitor or customer with id nobody"),
    ],
)
def test_bad_input_exits_with_code_2_and_one_line(alice, capsys, name, args, message):
    code, _out, err = run(capsys, name, *args, "--yes") if name == "promotions_erase_user" else run(capsys, name, *args)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert Event.objects.count() == 4


def test_export_to_an_unwritable_path_exits_with_code_2(alice, tmp_path, capsys):
    code, _out, err = run(capsys, "promotions_export_user", "--user", alice.pk, "--output", tmp_path / "no" / "x.json")
    assert (code, len(err.strip().splitlines())) == (2, 1)
    assert "Cannot write" in err


def test_erase_with_yes_prints_the_counts(alice, bob, capsys):
    code, out, _err = run(capsys, "promotions_erase_user", "--user", alice.pk, "--yes")
    assert code == 0
    assert "events 4" in out and "visitors 2" in out and "kept" in out
    assert set(Event.objects.values_list("visitor_id", flat=True)) == {BOB_COOKIE}
    assert list(Visitor.objects.values_list("key", flat=True)) == [BOB_COOKIE]


@pytest.mark.parametrize(("answer", "erased"), [("yes", True), ("no", False), (EOFError, False)])
def test_erase_asks_for_confirmation(alice, monkeypatch, capsys, answer, erased):
    def reply(question):
        assert ALICE_COOKIE in question
        if answer is EOFError:
            raise EOFError
        return answer

    monkeypatch.setattr("builtins.input", reply)
    code, out, _err = run(capsys, "promotions_erase_user", "--visitor", ALICE_COOKIE)
    assert code == 0
    assert Event.objects.exists() is not erased
    assert ("cancelled" in out) is not erased


def test_no_input_is_the_same_as_yes(alice):
    call_command("promotions_erase_user", "--email", "alice@example.com", "--no-input")
    assert not Event.objects.exists()
