"""Every way a rule file is refused, with the message operators will see."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from decision.conditions.errors import SpecFileError
from decision.conditions.loader import MAX_FILE_BYTES
from decision.tiers.rules.compiler import compile_path
from tests.decision.tiers.rules.conftest import DATA, write

INVALID = DATA / "invalid"

CASES = [
    ("syntax_error.yaml", r"syntax_error\.yaml:\d+: YAML error: "),
    ("unknown_operator.yaml", r":5: rule typo_op: unknown operator '=>' \(did you mean '>='\?\)"),
    (
        "unknown_field.yaml",
        r":5: rule typo_field: unknown field 'context.regoin' \(did you mean 'context.region'\?\)",
    ),
    ("type_mismatch.yaml", r":5: rule count_as_text: type mismatch: 'cart.item_count' is a number"),
    ("yaml11_no.yaml", r":5: rule norway: type mismatch: .*got boolean False .*quote it"),
    ("duplicate_id.yaml", r":6: rule twice: duplicate rule id \(first in duplicate_id.yaml:3\)"),
    ("duplicate_key.yaml", r":6: duplicate key 'priority' \(first given on line 4\)"),
    ("missing_version.yaml", r"missing_version\.yaml:1: missing version"),
    ("window_backwards.yaml", r":5: rule backwards: active window ends before it starts"),
    ("window_naive.yaml", r":5: rule no_zone: 'from' has no time zone"),
    ("billion_laughs.yaml", r":2: anchors and aliases \(&, \*\) are not allowed"),
    (
        "unknown_key.yaml",
        r":5: rule typo_key: unknown key 'placement' \(did you mean 'placements'\?\)",
    ),
    ("string_order.yaml", r"operator '>' does not apply to string field 'context.region'"),
    ("attribute_conflict.yaml", r":9: rule tier_number: 'attributes.tier' is used as a number"),
]


@pytest.mark.parametrize(("name", "message"), CASES, ids=[c[0] for c in CASES])
def test_invalid_file_is_refused_with_location(name: str, message: str) -> None:
    with pytest.raises(SpecFileError, match=message):
        compile_path(INVALID / name)


def test_every_problem_is_reported_not_just_the_first(tmp_path: Path) -> None:
    for name in ("unknown_field.yaml", "type_mismatch.yaml"):
        shutil.copy(INVALID / name, tmp_path / name)
    (tmp_path / "unknown_field.yaml").write_text((INVALID / "unknown_field.yaml").read_text().replace('"1"', '"2"'))
    with pytest.raises(SpecFileError, match="unknown field") as caught:
        compile_path(tmp_path)
    text = str(caught.value)
    assert "rule typo_field: unknown field" in text
    assert "rule count_as_text: type mismatch" in text
    assert "files declare different versions" in text
    assert len(caught.value.problems) == 3


def test_unsafe_tag_is_refused_and_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    source = (INVALID / "unsafe_tag.yaml").read_text().replace("MARKER_PATH", str(marker))
    path = write(tmp_path / "rules", source)
    with pytest.raises(SpecFileError, match=r"rules\.yaml:2: YAML error: .*no tags"):
        compile_path(path)
    assert not marker.exists()


def test_billion_laughs_is_refused_fast() -> None:
    started = time.perf_counter()
    with pytest.raises(SpecFileError, match="anchors and aliases"):
        compile_path(INVALID / "billion_laughs.yaml")
    assert time.perf_counter() - started < 5  # a generous bound: expanding would take minutes


def test_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = write(tmp_path, 'version: "1"\nrules: []\n' + "#" * MAX_FILE_BYTES)
    with pytest.raises(SpecFileError, match=rf"rules\.yaml:1: file is \d+ bytes; the limit is {MAX_FILE_BYTES}"):
        compile_path(path)


def test_symlink_leaving_the_rules_folder_is_refused(tmp_path: Path) -> None:
    outside = write(tmp_path, 'version: "1"\nrules: []\n', "secret.yaml")
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "promo.yaml").symlink_to(outside)
    with pytest.raises(SpecFileError, match=r"promo\.yaml:1: path leaves its folder"):
        compile_path(tmp_path / "rules")


def test_file_whose_own_test_fails_compiles_but_its_case_fails(load: object) -> None:
    from decision.tiers.rules import casefile

    active = load(INVALID / "failing_test.yaml")  # type: ignore[operator]
    (result,) = casefile.run_all(active)
    assert not result.passed
    assert result.why == "expected rule something_else, got big_cart"


def test_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(b'version: "1"\nrules: []\n# \xff\n')
    with pytest.raises(SpecFileError, match=r"bad\.yaml:3: file is not valid UTF-8"):
        compile_path(path)


def test_non_string_version_is_refused_with_a_hint(tmp_path: Path) -> None:
    path = write(tmp_path, "version: 1.10\nrules: []\n")
    with pytest.raises(SpecFileError, match=r":1: 'version': .*YAML read float 1\.1; quote it"):
        compile_path(path)


def test_empty_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecFileError, match=r"no \*\.yaml files"):
        compile_path(tmp_path)
