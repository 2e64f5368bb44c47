"""`decision tokens add|list` and `decision tls check|dev-certs` as an operator runs them."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from decision.cli import cli
from decision.security.tokens import hash_token, load_tokens
from tests.pki import make_pki


def test_tokens_add_prints_the_token_once_and_stores_only_its_hash(tmp_path: Path) -> None:
    path = tmp_path / "tokens.yaml"
    result = CliRunner().invoke(cli, ["tokens", "add", "checkout", "--scopes", "decide,report", "--file", str(path)])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert "shown only now" in result.stderr
    assert token not in path.read_text()
    (entry,) = load_tokens(path).entries
    assert entry.sha256 == hash_token(token)
    listed = CliRunner().invoke(cli, ["tokens", "list"], env={"DECISION_TOKENS_PATH": str(path)})
    assert listed.exit_code == 0
    assert listed.stdout.startswith("checkout")
    assert "decide,report" in listed.stdout
    assert token not in listed.output


def test_tokens_add_refuses_unknown_scopes_and_bad_names(tmp_path: Path) -> None:
    path = str(tmp_path / "tokens.yaml")
    unknown = CliRunner().invoke(cli, ["tokens", "add", "a", "--scopes", "decide,root", "--file", path])
    assert unknown.exit_code == 2
    assert "unknown: root" in unknown.output
    bad_name = CliRunner().invoke(cli, ["tokens", "add", "a b", "--scopes", "decide", "--file", path])
    assert bad_name.exit_code == 2
    assert "use 1-64 letters" in bad_name.output


def test_tls_check_accepts_a_good_set_and_names_the_bad_file(tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    good = CliRunner().invoke(cli, ["tls", "check", "--cert", str(pki.server.cert), "--key", str(pki.server.key)])
    assert good.exit_code == 0
    assert good.stdout.startswith("OK CN=server, valid until")
    expired = pki.expired_server()
    bad = CliRunner().invoke(cli, ["tls", "check", "--cert", str(expired.cert), "--key", str(expired.key)])
    assert bad.exit_code == 1
    assert f"tls_cert_path {expired.cert}: expired on" in bad.output


def test_dev_certs_writes_a_usable_set_once(tmp_path: Path) -> None:
    folder = tmp_path / "tls"
    made = CliRunner().invoke(cli, ["tls", "dev-certs", str(folder), "--host", "decision.internal"])
    assert made.exit_code == 0
    assert made.stdout.split() == [
        str(folder / n) for n in ("ca.crt", "server.crt", "server.key", "client.crt", "client.key")
    ]
    check = ["tls", "check", "--cert", str(folder / "server.crt"), "--key", str(folder / "server.key")]
    assert CliRunner().invoke(cli, [*check, "--client-ca", str(folder / "ca.crt")]).exit_code == 0
    again = CliRunner().invoke(cli, ["tls", "dev-certs", str(folder)])
    assert again.exit_code == 1
    assert "choose an empty folder" in again.output
