"""Tokens files: hashes at rest, one client per line, located errors, constant-time lookup."""

from __future__ import annotations

from pathlib import Path

import pytest

from decision.conditions.errors import SpecFileError
from decision.security.tokens import TOKEN_PREFIX, TokenTable, add_token, hash_token, load_tokens

HASH = "a" * 64


def test_add_appends_one_hashed_line_per_client_and_never_the_token(tmp_path: Path) -> None:
    path = tmp_path / "tokens.yaml"
    first = add_token(path, "checkout", ["decide", "report"])
    second = add_token(path, "ops", ["admin"])
    text = path.read_text()
    assert first.startswith(TOKEN_PREFIX)
    assert len(first) > 40
    assert first != second
    assert first not in text
    assert second not in text
    assert f"- {{name: checkout, sha256: {hash_token(first)}, scopes: [decide, report]}}\n" in text
    assert text.startswith("# Client tokens")
    table = load_tokens(path)
    assert [(e.name, e.scopes) for e in table.entries] == [("checkout", ("decide", "report")), ("ops", ("admin",))]


def test_find_returns_the_holder_of_a_token_and_nothing_for_others(tmp_path: Path) -> None:
    path = tmp_path / "tokens.yaml"
    token = add_token(path, "checkout", ["decide"])
    add_token(path, "ops", ["admin"])
    table = load_tokens(path)
    found = table.find(token)
    assert found is not None
    assert found.name == "checkout"
    assert table.find(token + "x") is None
    assert table.find("") is None
    assert TokenTable(()).find(token) is None


def test_a_name_is_added_once(tmp_path: Path) -> None:
    path = tmp_path / "tokens.yaml"
    add_token(path, "checkout", ["decide"])
    with pytest.raises(SpecFileError, match="client checkout: already has a token"):
        add_token(path, "checkout", ["report"])


def test_a_file_without_a_final_newline_still_gets_its_own_line(tmp_path: Path) -> None:
    path = tmp_path / "tokens.yaml"
    path.write_text(f"- {{name: a, sha256: {HASH}, scopes: [decide]}}")
    add_token(path, "b", ["report"])
    assert [e.name for e in load_tokens(path).entries] == ["a", "b"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (f"- {{name: a, sha256: {HASH}, scopes: [decide, root]}}\n", r":1: client a: 'scopes': Input should be"),
        ("- {name: a, sha256: abc, scopes: [decide]}\n", r":1: client a: 'sha256': String should match"),
        (f"- {{name: a, sha256: {HASH}, scope: [decide]}}\n", r"unknown key 'scope' \(did you mean 'scopes'\?\)"),
        (f"- {{name: a, sha256: {HASH}, scopes: []}}\n", r"'scopes': Tuple should have at least 1 item"),
        (
            f"- {{name: a, sha256: {HASH}, scopes: [decide]}}\n- {{name: a, sha256: {'b' * 64}, scopes: [report]}}\n",
            r":2: client a: name given twice",
        ),
        (
            f"- {{name: a, sha256: {HASH}, scopes: [decide]}}\n- {{name: b, sha256: {HASH}, scopes: [report]}}\n",
            r":2: client b: same token hash as another client",
        ),
        ("name: a\n", r":1: a tokens file is a list"),
        ("- [unclosed\n", r"YAML error"),
    ],
)
def test_bad_files_are_refused_with_file_and_line(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "tokens.yaml"
    path.write_text(content)
    with pytest.raises(SpecFileError, match=rf"{path}{'' if expected.startswith(':') else '.*'}{expected}"):
        load_tokens(path)


def test_an_empty_file_has_no_clients_and_a_missing_one_is_named(tmp_path: Path) -> None:
    path = tmp_path / "tokens.yaml"
    path.write_text("# nobody yet\n")
    assert load_tokens(path).entries == ()
    with pytest.raises(SpecFileError, match=r"missing.yaml:1: cannot read the tokens file"):
        load_tokens(tmp_path / "missing.yaml")
