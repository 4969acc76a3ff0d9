"""Numbers that never collide, and refunds under the answers the docs leave open.

A second database on the same FeedAMP account (a move, a restore, a staging copy) must issue
numbers of its own; a duplicate refusal must be read whatever status and words FeedAMP uses,
and only as our own success when nothing else can have used the number; a return whose lines
carry no id can still be refunded, its lines named as the stored return shows them.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select

from feedamp_sync.db import tables as t
from feedamp_sync.db.engine import create_engine_for
from feedamp_sync.sandbox import Faults, Sandbox, SandboxServer
from tests.end_to_end.actions import (
    QUICK_RETRIES,
    enqueue_cli,
    lines_of,
    once_under,
    patient_config,
    refund,
    run_until_settled,
    statuses,
)
from tests.end_to_end.harness import (
    CLIENT_ID,
    PASSWORD,
    USERNAME,
    cli,
    cli_json,
    merged,
    write_config,
)


def refund_first_line(
    capsys: pytest.CaptureFixture[str], config: Path, tmp_path: Path, sandbox: Sandbox, order: str
) -> None:
    line = lines_of(sandbox, order)[0]["mp_line_number"]
    payload = refund(line, refund_quantity=1)
    assert enqueue_cli(capsys, config, tmp_path, "refund", order, payload)[0] == 0


def test_a_second_database_on_the_same_account_confirms_and_refunds_without_collision(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each database's first order and first refund get numbers the other never used."""
    first_orders = sandbox.add_orders(3)
    (tmp_path / "first").mkdir()
    first = write_config(tmp_path / "first", database_url, server.base_url, QUICK_RETRIES)
    run_until_settled(capsys, first, engine)
    refund_first_line(capsys, first, tmp_path, sandbox, first_orders[0])
    run_until_settled(capsys, first, engine)

    second_orders = sandbox.add_orders(3)
    (tmp_path / "second").mkdir()
    second_url = f"sqlite:///{tmp_path / 'second' / 'second.db'}"
    second = write_config(tmp_path / "second", second_url, server.base_url, QUICK_RETRIES)
    assert cli(capsys, second, "db", "upgrade")[0] == 0
    assert cli(capsys, second, "run", "--once")[0] == 0
    refund_first_line(capsys, second, tmp_path, sandbox, second_orders[0])
    assert cli(capsys, second, "run", "--once")[0] == 0

    assert sandbox.unconfirmed_orders() == []
    refunds = [effect["cp_refund_number"] for effect in sandbox.effects("refund")]
    assert len(refunds) == len(set(refunds)) == 2
    dead = cli_json(capsys, second, "outbox", "list", "--status", "dead")
    assert dead == []


def refund_messages(engine: Engine) -> list[Any]:
    box = t.outbox.c
    with engine.connect() as conn:
        return list(conn.execute(select(t.outbox).where(box.kind == "refund").order_by(box.id)))


def refund_elsewhere(server: SandboxServer, order_id: str, refund_info: dict[str, Any]) -> None:
    """Another system (a restored copy of the database, the seller's ERP) posts a refund
    under ``refund_info``'s number, straight to FeedAMP."""
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        token = http.get("/api/v1/get_token", auth=(USERNAME, PASSWORD)).json()["token"]
        answer = http.post(
            f"/api/v1/orders/{order_id}/refund",
            json={"refund_info": refund_info},
            headers={"token": token, "client": str(CLIENT_ID)},
        )
    assert answer.status_code == 201, answer.text


def test_a_refund_refused_as_a_duplicate_at_once_stays_dead_when_retried(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Another refund holds our number: the first attempt is refused, and so is an
    operator's retry. Neither refusal is taken for our refund, which never happened."""
    [order] = sandbox.add_orders(1)
    config = write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)
    run_until_settled(capsys, config, engine)
    refund_first_line(capsys, config, tmp_path, sandbox, order)
    [message] = refund_messages(engine)
    number = message.payload["cp_refund_number"]
    refund_elsewhere(server, order, message.payload)
    run_until_settled(capsys, config, engine)
    assert refund_messages(engine)[0].status == "dead"

    assert cli(capsys, config, "outbox", "retry", str(message.id), "--reason", "checked")[0] == 0
    run_until_settled(capsys, config, engine)

    [retried] = refund_messages(engine)
    assert (retried.status, retried.attempts) == ("dead", 2)
    assert "another refund holds it" in retried.last_error
    assert f"check in the marketplace whether refund {number} exists" in retried.last_error
    assert [effect["cp_refund_number"] for effect in sandbox.effects("refund")] == [number]


@pytest.mark.parametrize(
    "duplicate",
    [Faults(), Faults(duplicate_status=400, duplicate_wording="has been used before")],
    ids=["409", "worded-400"],
)
def test_a_refund_whose_answer_was_lost_is_sent_when_refused_as_a_duplicate(
    duplicate: Faults,
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """FeedAMP made the refund but its answer was lost; the retry is refused as a duplicate
    (a 409, or a 400 "has been used before"): the refund ends sent, once in FeedAMP."""
    [order] = sandbox.add_orders(1)
    config = write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)
    patient = patient_config(tmp_path, database_url, server.base_url)
    run_until_settled(capsys, config, engine)
    sandbox.set_faults(duplicate)
    refund_first_line(capsys, config, tmp_path, sandbox, order)
    lost = replace(duplicate, apply_then_fail=1.0, endpoints={"refund"})
    once_under(capsys, patient, engine, sandbox, lost)
    run_until_settled(capsys, config, engine)

    [message] = refund_messages(engine)
    assert (message.status, message.last_status_code) == ("sent", duplicate.duplicate_status)
    assert [e["cp_refund_number"] for e in sandbox.effects("refund")] == [
        message.payload["cp_refund_number"]
    ]


def test_a_refund_under_the_sellers_own_number_whose_answer_was_lost_goes_dead_for_a_check(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The seller's ERP number may be another refund's: its duplicate refusal is not taken
    for ours, and the reason says what to check."""
    [order] = sandbox.add_orders(1)
    config = write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)
    patient = patient_config(tmp_path, database_url, server.base_url)
    run_until_settled(capsys, config, engine)
    line = lines_of(sandbox, order)[0]["mp_line_number"]
    payload = refund(line, refund_quantity=1, cp_refund_number="ERP-RF-1")
    assert enqueue_cli(capsys, config, tmp_path, "refund", order, payload)[0] == 0
    once_under(capsys, patient, engine, sandbox, Faults(apply_then_fail=1.0, endpoints={"refund"}))
    run_until_settled(capsys, config, engine)

    [message] = refund_messages(engine)
    assert message.status == "dead"
    assert "was given or rendered without {nonce}" in message.last_error
    assert "check in the marketplace whether refund ERP-RF-1 exists" in message.last_error


def test_a_refund_template_without_a_nonce_is_warned_about_at_start(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An upgraded config that still says RF{database}-{id} is told what it risks."""
    sections = merged(QUICK_RETRIES, {"outbox": {"cp_refund_number_template": "RF{database}-{id}"}})
    config = write_config(tmp_path, database_url, server.base_url, sections)
    code, _, err = cli(capsys, config, "run", "--once")
    assert code == 0, err
    assert "refund_numbers_without_nonce" in err
    assert "has no {nonce}" in err


@contextmanager
def database_file(directory: Path) -> Iterator[tuple[str, Engine]]:
    url = f"sqlite:///{directory / 'feedamp-sync.db'}"
    engine = create_engine_for(url)
    try:
        yield url, engine
    finally:
        engine.dispose()


def test_two_copies_of_one_sqlite_database_issue_different_refund_numbers(
    sandbox: Sandbox, server: SandboxServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A copy keeps the database's identity and hands out the same message ids; each
    refund number's random part still makes the copies' next refunds two numbers."""
    first_order, second_order = sandbox.add_orders(2)
    original, copy = tmp_path / "original", tmp_path / "copy"
    original.mkdir()
    copy.mkdir()
    with database_file(original) as (url, engine):
        config = write_config(original, url, server.base_url, QUICK_RETRIES)
        assert cli(capsys, config, "db", "upgrade")[0] == 0
        run_until_settled(capsys, config, engine)
        refund_first_line(capsys, config, tmp_path, sandbox, first_order)
        run_until_settled(capsys, config, engine)
    for file in original.glob("feedamp-sync.db*"):
        shutil.copy2(file, copy / file.name)

    numbers = []
    for directory in (original, copy):
        with database_file(directory) as (url, engine):
            config = write_config(directory, url, server.base_url, QUICK_RETRIES)
            refund_first_line(capsys, config, tmp_path, sandbox, second_order)
            run_until_settled(capsys, config, engine)
            latest = refund_messages(engine)[-1]
            assert latest.status == "sent", latest.last_error
            numbers.append(latest.payload["cp_refund_number"])

    assert numbers[0] != numbers[1]
    refunded = [effect["cp_refund_number"] for effect in sandbox.effects("refund")]
    assert len(refunded) == len(set(refunded)) == 3


def stored_return_lines(
    capsys: pytest.CaptureFixture[str], config: Path, return_id: str
) -> list[dict[str, Any]]:
    """The lines of a return as the daemon stored it (``returns show``)."""
    lines: list[dict[str, Any]] = cli_json(capsys, config, "returns", "show", return_id)["lines"]
    return lines


def full_refund_of(**named: str) -> dict[str, Any]:
    return {"merchant_refund_lines": [{**named, "merchant_full_refund": True}]}


@dataclass
class IdlessReturn:
    """A return whose lines FeedAMP shows without ids, stored by the daemon."""

    sandbox: Sandbox
    engine: Engine
    config: Path
    tmp_path: Path
    capsys: pytest.CaptureFixture[str]
    return_id: str

    def stored_lines(self) -> list[dict[str, Any]]:
        return stored_return_lines(self.capsys, self.config, self.return_id)

    def enqueue(self, payload: dict[str, Any]) -> tuple[int, str]:
        code, _, err = enqueue_cli(
            self.capsys, self.config, self.tmp_path, "return-refund", self.return_id, payload
        )
        return code, err

    def settle(self) -> None:
        run_until_settled(self.capsys, self.config, self.engine)


@pytest.fixture
def idless_return(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> IdlessReturn:
    [return_id] = sandbox.add_returns(1, ["Pending Refund"])
    sandbox.set_faults(Faults(hide_return_line_ids=True))
    config = write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)
    shown = IdlessReturn(sandbox, engine, config, tmp_path, capsys, return_id)
    shown.settle()
    return shown


def test_a_return_whose_lines_show_no_id_is_refunded_whole_by_their_marketplace_numbers(
    idless_return: IdlessReturn,
) -> None:
    """Refunding every line of such a return sends each line's mp_return_line_number."""
    stored = idless_return.stored_lines()
    assert [line["feedamp_return_line_id"] for line in stored] == [None] * len(stored)

    assert idless_return.enqueue({})[0] == 0
    idless_return.settle()

    [refunded] = idless_return.sandbox.effects("refund_return")
    assert refunded["line_ids"] == [line["mp_return_line_number"] for line in stored]
    assert refunded["state"] == "Merchant Refunded"
    assert set(statuses(idless_return.engine).values()) == {"sent"}


def test_a_line_that_shows_no_id_is_refunded_by_its_marketplace_number(
    idless_return: IdlessReturn,
) -> None:
    """The seller names the line as the stored return shows it, and that line is refunded."""
    number = idless_return.stored_lines()[0]["mp_return_line_number"]

    assert idless_return.enqueue(full_refund_of(mp_return_line_number=number))[0] == 0
    idless_return.settle()

    effects = idless_return.sandbox.effects("refund_return")
    assert [effect["line_ids"] for effect in effects] == [[number]]
    assert set(statuses(idless_return.engine).values()) == {"sent"}


def test_an_id_for_a_line_that_shows_none_is_refused_naming_the_key_to_use(
    idless_return: IdlessReturn,
) -> None:
    """Nothing stored to check an id against: enqueue says to name the line by its number."""
    code, err = idless_return.enqueue(full_refund_of(feedamp_return_line_id="900001"))
    assert code == 65
    assert "carry no feedamp_return_line_id (nor id), so name the line by its" in err
    assert "mp_return_line_number" in err


def test_a_refund_state_from_another_line_does_not_pass_for_ours(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Line A refunded, the return shown as Processing Refund; line B's refund loses its
    connection and is retried: the state is not taken for B's refund, which is made."""
    returns = sandbox.add_returns(8, ["Pending Refund"])
    return_id = next(
        r for r in returns if len(sandbox.return_(r)["return_info"]["return_lines"]) == 2
    )
    config = write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)
    run_until_settled(capsys, config, engine)
    first, second = (
        line["feedamp_return_line_id"] for line in stored_return_lines(capsys, config, return_id)
    )
    named = full_refund_of(feedamp_return_line_id=first)
    assert enqueue_cli(capsys, config, tmp_path, "return-refund", return_id, named)[0] == 0
    run_until_settled(capsys, config, engine)
    sandbox.serve_return_as(return_id, lambda shown: {**shown, "state": "Processing Refund"})

    named = full_refund_of(feedamp_return_line_id=second)
    assert enqueue_cli(capsys, config, tmp_path, "return-refund", return_id, named)[0] == 0
    patient = patient_config(tmp_path, database_url, server.base_url)
    once_under(capsys, patient, engine, sandbox, Faults(drop=1.0, endpoints={"refund_return"}))
    run_until_settled(capsys, config, engine)

    assert [effect["line_ids"] for effect in sandbox.effects("refund_return")] == [
        [first],
        [second],
    ]
    assert sandbox.return_(return_id)["state"] == "Merchant Refunded"
