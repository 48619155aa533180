"""`cogni-billing` from the outside: `python -m billing` in a subprocess, against a real file."""

from __future__ import annotations

import json
import time

import pytest

from billing import invariants, ledger, reasons, startup
from billing.cli import main
from billing_fixtures import (  # noqa: F401 (pytest fixtures)
    BACKENDS, cli, database, fund, new_database, owner, rows)
from chain_double import RAIL, FakeChain, Node, new_tx_hash, wallet_of


@pytest.fixture
def chain(tmp_path):
    """A JSON-RPC node double on loopback, and the repo spec that declares its rail."""
    fake = FakeChain()
    node = Node(fake.answer)
    spec = tmp_path / "repo-spec.yaml"
    spec.write_text(
        "payments_in:\n  credits_topup:\n"
        f"    receiving_address: \"{RAIL.recipient}\"\n    chain_id: {RAIL.chain_id}\n"
        f"    token_address: \"{RAIL.token}\"\n    token_decimals: 6\n    confirmations: 1\n")
    fake.env = {"COGNI_BILLING_RPC_URL": node.url, "COGNI_BILLING_SPEC": str(spec)}
    yield fake
    node.stop()


def paid(run, chain, user, cents, purpose="self"):
    """An attempt created, its transaction submitted and verified through the command line."""
    attempt = run("intent", "create", "--user", user, "--cents", str(cents),
                  "--purpose", purpose)[1]
    tx_hash = new_tx_hash()
    chain.pay(tx_hash, wallet_of(user), cents * 10**4)
    assert run("intent", "submit", attempt["id"], "--user", user, "--tx-hash", tx_hash,
               "--wallet", wallet_of(user))[0] == 0
    assert run("intent", "verify", attempt["id"])[:2] == (0, {
        "attempt_id": attempt["id"], "chain_id": RAIL.chain_id, "tx_hash": tx_hash,
        "from_address": wallet_of(user), "verdict": "verified",
        "detail": f"paid {cents * 10**4} with 1 confirmations",
        **{k: v for k, v in run("intent", "verify", attempt["id"])[1].items()
           if k in ("submitted_at", "verified_at")}})
    return attempt


@pytest.fixture
def run(cli, database, chain):
    """run(*args) -> (exit code, parsed JSON stdout or None, stderr) of one --json command."""

    def run(*args, env=None):
        done = cli(database.url, "--json", *args, env={**chain.env, **(env or {})})
        return done.returncode, json.loads(done.stdout) if done.stdout else None, done.stderr

    return run


@pytest.mark.parametrize("kind", BACKENDS)
def test_init_is_repeat_safe_and_prints_the_schema_version(cli, tmp_path, kind):
    target = new_database(kind, tmp_path, migrated=False)
    first, again = cli(target.owner, "init"), cli(target.owner, "--json", "init")
    assert (first.returncode, first.stdout, first.stderr) == (
        0, "billing database ready at schema version 7\n", "")
    assert (again.returncode, json.loads(again.stdout)) == (0, {"schema_version": 7})
    assert cli(target.url, "check").stdout == "ok: every invariant holds\n"


def test_a_purchase_and_a_spend_end_to_end(run, chain):
    code, opened, _ = run("account", "create", "--user", "alice")
    assert (code, run("account", "create", "--user", "alice")[1]) == (0, opened)
    attempt = paid(run, chain, "alice", 250)
    assert (attempt["purpose"], attempt["amount_cents"], attempt["status"]) == (
        "self", 250, "created")
    code, settled, _ = run("intent", "settle", attempt["id"])
    assert (code, settled) == (0, {"attempt_id": attempt["id"], "status": "settled", "minted": [
        {"account_id": opened["account_id"], "reason": reasons.CREDITS_PURCHASE, "credits": 2500},
        {"account_id": "cogni_system", "reason": reasons.PLATFORM_REVENUE_SHARE, "credits": 1875},
    ]})
    assert run("intent", "settle", attempt["id"])[:2] == (
        0, {"attempt_id": attempt["id"], "status": "already_settled", "minted": []})
    code, held, _ = run("reserve", "--user", "alice", "--credits", "1000")
    code, done, _ = run("finalize", held["id"], "--user", "alice", "--credits", "400")
    assert (code, done["status"], done["consumed_credits"]) == (0, "finalized", 400)
    assert run("balance", "--user", "alice")[1] == {
        "account_id": opened["account_id"], "balance_credits": 2100,
        "balance_usd_micro": 2_100_000, "available_credits": 2100, "reserved_credits": 0,
        "expired_credits": 0, "debt_credits": 0}
    assert run("balance", "--system")[1]["balance_credits"] == 1875
    code, rows, _ = run("ledger", "--user", "alice")
    assert [(r["amount"], r["balance_after"], r["reason"], r["reference"])
            for r in rows["entries"]] == [
        (2500, 2500, reasons.CREDITS_PURCHASE, attempt["id"]),
        (-400, 2100, reasons.USAGE_CHARGE, held["id"]),
    ]
    assert [len(run("ledger", *which)[1]["entries"]) for which in (
        [], ["--system"], ["--account", opened["account_id"]])] == [3, 1, 2]
    assert run("check")[:2] == (0, {"ok": True, "violations": []})


def test_a_donation_goes_to_the_system_tenant(run, chain):
    run("account", "create", "--user", "alice")
    attempt = paid(run, chain, "alice", 99, "system")
    assert run("intent", "settle", attempt["id"])[1]["minted"] == [
        {"account_id": "cogni_system", "reason": reasons.SYSTEM_DONATION, "credits": 990}]
    assert [run("balance", *who)[1]["balance_credits"] for who in (
        ["--user", "alice"], ["--system"])] == [0, 990]


def test_release_and_sweep(run, chain):
    run("account", "create", "--user", "alice")
    run("intent", "settle", paid(run, chain, "alice", 10)["id"])
    released = run("reserve", "--user", "alice", "--credits", "60")[1]
    assert run("release", released["id"], "--user", "alice")[1]["status"] == "released"
    expiring = run("reserve", "--user", "alice", "--credits", "70", "--ttl", "1")[1]
    assert run("sweep")[1] == {"expired": 0}
    time.sleep(1.05)
    assert run("sweep")[1] == {"expired": 1}
    assert run("finalize", expiring["id"], "--user", "alice", "--credits", "1")[0] == 2
    assert run("balance", "--user", "alice")[1]["balance_credits"] == 100


@pytest.mark.parametrize("args, error", [
    pytest.param(["balance", "--user", "bob"],
                 "unknown user 'bob'; create the account with `account create`", id="unknown-user"),
    pytest.param(["reserve", "--user", "alice", "--credits", "1001"],
                 "insufficient credits: requested 1001, available 1000", id="insufficient"),
    pytest.param(["intent", "create", "--user", "alice", "--cents", "0"],
                 "bad amount 0: expected whole cents from 1 to 1000000000", id="bad-cents"),
    pytest.param(["reserve", "--user", "alice", "--credits", "-3"],
                 "bad amount -3: expected whole credits from 1 to 10000000000", id="bad-credits"),
    pytest.param(["reserve", "--user", "alice", "--credits", "5", "--ttl", "0"],
                 "bad ttl 0: expected 1 to 604800 seconds", id="bad-ttl"),
    pytest.param(["intent", "settle", "nope"], "unknown payment attempt 'nope'",
                 id="unknown-attempt"),
    pytest.param(["finalize", "nope", "--user", "alice", "--credits", "1"],
                 "unknown reservation 'nope'", id="unknown-reservation"),
    pytest.param(["ledger", "--account", "nope"], "unknown billing account 'nope'",
                 id="unknown-account"),
])
def test_an_error_is_one_line_exit_2_and_writes_nothing(cli, database, fund, args, error):
    conn = startup.open_database(database.url)
    fund(conn, "alice", 100)
    before = ledger.entries(conn)
    text, as_json = cli(database.url, *args), cli(database.url, "--json", *args)
    assert (text.returncode, text.stdout, text.stderr) == (2, "", f"cogni-billing: {error}\n")
    assert (as_json.returncode, as_json.stdout, json.loads(as_json.stderr)) == (
        2, "", {"error": error})
    assert ledger.entries(conn) == before
    assert rows(conn, "SELECT COUNT(*) FROM credit_reservations") == [(0,)]


def test_an_invalid_revenue_share_stops_every_command(cli, database):
    done = cli(database.url, "balance", "--system", env={"SYSTEM_TENANT_REVENUE_SHARE": "0,75"})
    assert (done.returncode, done.stderr) == (2, "cogni-billing: SYSTEM_TENANT_REVENUE_SHARE"
                                              " must be a decimal between 0 and 1 (e.g. 0.75),"
                                              " got '0,75'\n")


@pytest.mark.parametrize("kind", BACKENDS)
def test_the_environment_only_seeds_the_first_revenue_rule(cli, chain, tmp_path, kind):
    target = new_database(kind, tmp_path, migrated=False)
    assert cli(target.owner, "init", env={"SYSTEM_TENANT_REVENUE_SHARE": "0.5"}).returncode == 0

    def run(*args, env=None):
        done = cli(target.url, "--json", *args, env={**chain.env, **(env or {})})
        return done.returncode, json.loads(done.stdout) if done.stdout else None, done.stderr

    run("account", "create", "--user", "alice")
    bonuses = [run("intent", "settle", paid(run, chain, "alice", 1)["id"],
                   env={"SYSTEM_TENANT_REVENUE_SHARE": share})[1]["minted"][1]["credits"]
               for share in ("0.75", "1", "0")]
    assert bonuses == [5, 5, 5]  # the active rule (0.5, seeded at init), whatever the process
    (rule,) = run("rules", "list")[1]["rules"]
    assert (rule["status"], rule["share_numerator"], rule["share_denominator"]) == (
        "active", 1, 2)


def test_a_missing_database_is_a_clear_error(cli, tmp_path):
    done = cli(tmp_path / "nowhere.db", "balance", "--system")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("cogni-billing: no billing database at ")
    assert not (tmp_path / "nowhere.db").exists()


def test_check_names_each_broken_invariant_and_exits_1(cli, database, owner, fund):
    conn = startup.open_database(database.url)
    alice = fund(conn, "alice", 100)
    owner.drop_trigger("billing_accounts_balance_from_ledger", "billing_accounts")
    owner.execute("UPDATE billing_accounts SET balance_credits = 7 WHERE id = ?", (alice.id,))
    done = cli(database.url, "check")
    assert (done.returncode, done.stdout.splitlines()) == (1, [
        f"broken balance-equals-ledger-sum: account {alice.id} balance 7 != ledger sum 1000",
        f"broken balance-equals-lots: account {alice.id} balance 7 != available + reserved in"
        " its lots 1000",
    ])
    assert [v.invariant for v in invariants.check(conn)] == [
        "balance-equals-ledger-sum", "balance-equals-lots"]


def test_main_returns_exit_codes_in_process(database, capsys):
    assert main(["--db", database.url, "balance", "--system"]) == 0
    assert main(["--db", database.url, "frobnicate"]) == 2
    assert main(["--db", database.url, "balance"]) == 2  # --user or --system is required
    assert main(["--db", database.url, "balance", "--system", "--json"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "0 (available 0, reserved 0, expired 0, owed 0)",
        '{"account_id": "cogni_system", "available_credits": 0, "balance_credits": 0,'
        ' "balance_usd_micro": 0, "debt_credits": 0, "expired_credits": 0, "reserved_credits": 0}']
    assert "invalid choice: 'frobnicate'" in err


def test_an_internal_error_exits_3_with_a_traceback(database, owner, capsys):
    owner.execute("DROP TABLE reservation_lots")
    owner.execute("DROP TABLE credit_reservations")
    assert main(["--db", database.url, "sweep"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("Traceback") and "credit_reservations" in err


def test_the_database_comes_from_the_environment_when_not_given(cli, database, tmp_path):
    done = cli_without_db(cli, ["balance", "--system"], {"COGNI_BILLING_DB": database.url})
    assert (done.returncode, done.stdout.split(" ")[0]) == (0, "0")
    missing = cli_without_db(cli, ["balance", "--system"], {})
    assert (missing.returncode, missing.stderr) == (
        2, "cogni-billing: no database: pass --db FILE|URL or set COGNI_BILLING_DB\n")


def cli_without_db(cli, args, env):
    import subprocess
    import sys

    from billing_fixtures import cli_env

    return subprocess.run([sys.executable, "-m", "billing", *args], capture_output=True,
                          text=True, env=cli_env(**env), timeout=60)


def test_a_revenue_rule_is_governed_from_the_command_line(run):
    code, rule, _ = run("rules", "propose", "--name", "more", "--share", "0.9", "--actor", "dao")
    assert (code, rule["status"]) == (0, "draft")
    assert run("rules", "submit", rule["id"], "--actor", "dao")[1]["status"] == "pending_approval"
    approved = run("rules", "approve", rule["id"], "--actor", "dao", "--cooldown-hours", "48")[1]
    assert approved["status"] == "cooling_down"
    assert run("rules", "activate-ready")[1] == {"activated": []}  # 48 h to go
    code, _, err = run("rules", "override", rule["id"], "--actor", "dao", "--why", " ")
    assert (code, err) == (2, '{"error": "an emergency override must say why"}\n')
    assert run("rules", "override", rule["id"], "--actor", "dao", "--why", "outage")[1][
        "status"] == "active"
    audit = run("rules", "audit", rule["id"])[1]["audit"]
    assert [(e["action"], e["actor"], e["reason"]) for e in audit] == [
        ("proposed", "dao", None), ("submitted", "dao", None), ("approved", "dao", None),
        ("cooldown_overridden", "dao", "outage")]
    assert [r["status"] for r in run("rules", "list")[1]["rules"]] == ["superseded", "active"]
