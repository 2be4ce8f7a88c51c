"""`credit-sdk lists show|validate|diff`: shipped, file and sandbox lists; each broken rule is
named (list, measure, rule) with exit code 8; argument errors are 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from credit_sdk._data import DATA_DIR
from credit_sdk.cli import EXIT_INVALID_LIST, EXIT_OK, EXIT_USAGE

from .conftest import Run

if TYPE_CHECKING:
    from credit_sdk.sandbox import SandboxServer

SHIPPED = DATA_DIR / "lists"
SUPPLEMENTARY = SHIPPED / "hlj-supplementary-punishment-sample.json"
SHIPPED_IDS = {
    "cn-basic-punishment-2021-partial",
    "hlj-incentive-sample",
    "hlj-restriction-sample",
    "hlj-supplementary-punishment-sample",
}


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    data.pop("sha256", None)
    return data


def write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_show_shipped_by_default(run: Run) -> None:
    result = run("lists", "show")
    assert result.code == EXIT_OK
    # Chinese first (the default, zh-en), as `credit-sdk check` prints.
    assert result.out.startswith("来源 source: 随 credit-sdk 提供的清单")
    assert "CREDIT_SDK_BASE_URL" in result.out
    for list_id in SHIPPED_IDS:
        assert list_id in result.out
    header = result.out.splitlines()[1]
    assert header.startswith("清单 LIST")
    assert "今日有效 IN FORCE" in header
    assert "样例，非官方 sample" in result.out
    assert "守信激励措施清单 incentive list" in result.out


@pytest.mark.parametrize(
    ("lang", "first", "table", "absent"),
    [
        ("zh", "来源: 随 credit-sdk 提供的清单", ("清单", "样例，非官方", "是"), "incentive list"),
        ("en", "source: the lists shipped with credit-sdk", ("LIST", "sample", "yes"), "清单"),
    ],
)
def test_show_lang(run: Run, lang: str, first: str, table: tuple[str, ...], absent: str) -> None:
    result = run("lists", "show", "--shipped", "--lang", lang)
    assert result.code == EXIT_OK
    assert result.out.startswith(first)
    for word in table:
        assert word in result.out
    assert absent not in result.out
    for list_id in SHIPPED_IDS:  # ids and digests never change with --lang
        assert list_id in result.out


def test_show_lang_leaves_json_alone(run: Run) -> None:
    plain = run("lists", "show", "--shipped", "--json")
    for lang in ("zh", "en"):
        assert run("lists", "show", "--shipped", "--json", "--lang", lang).out == plain.out
    one = run("lists", "show", "--list", "hlj-incentive-sample", "--json", "--lang", "zh")
    assert json.loads(one.out)["kind"] == "incentive"


def test_show_lang_refuses_other_languages(run: Run) -> None:
    result = run("lists", "show", "--lang", "fr")
    assert result.code == EXIT_USAGE
    assert "--lang" in result.err


def test_show_json(run: Run) -> None:
    result = run("lists", "show", "--shipped", "--json")
    assert result.code == EXIT_OK
    data = json.loads(result.out)
    assert {d["list_id"] for d in data} == SHIPPED_IDS
    assert all(len(d["sha256"]) == 64 for d in data)


def test_show_one_list(run: Run) -> None:
    result = run("lists", "show", "--list", "hlj-supplementary-punishment-sample")
    assert result.code == EXIT_OK
    assert "HLJ-SUP-42.3-01" in result.out
    assert "设定依据 legal basis: " in result.out
    assert "实施主体 implementing body: " in result.out
    assert "来源性质 provenance: 样例，非官方 sample [sample]" in result.out
    assert "清单类别 kind: 本省失信惩戒措施补充清单 provincial supplementary list" in result.out
    assert "失信惩戒 punishment  Art. 42(" in result.out
    zh = run("lists", "show", "--list", "hlj-supplementary-punishment-sample", "--lang", "zh")
    assert "来源性质: 样例，非官方 [sample]" in zh.out
    assert "措施: " in zh.out
    assert "适用场景: " in zh.out
    assert "legal basis" not in zh.out
    assert " punishment " not in zh.out
    en = run("lists", "show", "--list", "hlj-supplementary-punishment-sample", "--lang", "en")
    assert "provenance: sample [sample]" in en.out
    assert "legal basis: " in en.out
    assert "设定依据" not in en.out
    assert "HLJ-SUP-42.3-01  punishment  Art. 42(3)" in en.out
    result = run("lists", "show", "--list", "hlj-incentive-sample", "--json")
    assert json.loads(result.out)["list_id"] == "hlj-incentive-sample"
    result = run("lists", "show", "--list", "no-such-list")
    assert result.code == EXIT_USAGE
    assert "hlj-incentive-sample" in result.err  # names what exists
    result = run("lists", "show", "--list", "hlj-incentive-sample", "--version", "9")
    assert result.code == EXIT_USAGE


def test_show_from_the_sandbox(run: Run, sandbox: SandboxServer) -> None:
    result = run("lists", "show", "--sandbox", sandbox.url)
    assert result.code == EXIT_OK
    assert result.out.startswith(f"来源 source: 平台 {sandbox.url}：")
    assert f"platform {sandbox.url}: " in result.out.splitlines()[0]
    assert "hlj-supplementary-punishment-sample" in result.out


def test_show_files(run: Run, tmp_path: Path) -> None:
    shutil.copy(SUPPLEMENTARY, tmp_path / "one.json")
    result = run("lists", "show", str(tmp_path))
    assert result.code == EXIT_OK
    assert result.out.startswith("来源 source: 清单文件（1 个版本，已校验） files (1 editions")
    en = run("lists", "show", str(tmp_path), "--lang", "en")
    assert en.out.startswith("source: files (1 editions, validated)")
    result = run("lists", "show", str(tmp_path), "--shipped")
    assert result.code == EXIT_USAGE


def test_validate_ok(run: Run) -> None:
    result = run("lists", "validate", str(SHIPPED))
    assert result.code == EXIT_OK
    assert result.out.count("ok    ") == 4
    assert "4 file(s), 0 problem(s)" in result.out


def test_validate_names_list_measure_and_rule(run: Run, tmp_path: Path) -> None:
    data = load(SUPPLEMENTARY)
    data["measures"][0]["legal_basis"] = []  # Art. 39: no measure without its legal basis
    broken = write(tmp_path / "broken.json", data)
    result = run("lists", "validate", str(broken), str(SHIPPED / "hlj-incentive-sample.json"))
    assert result.code == EXIT_INVALID_LIST
    first = data["measures"][0]["measure_id"]
    line = next(ln for ln in result.out.splitlines() if ln.startswith("FAIL"))
    assert "list 'hlj-supplementary-punishment-sample'" in line
    assert f"measure '{first}'" in line
    assert "rule Art.39" in line
    assert "1 problem(s)" in result.out
    result = run("lists", "validate", str(broken), "--json")
    report = json.loads(result.out)
    assert report["ok"] is False
    assert report["files"][0]["measure_id"] == first
    assert report["files"][0]["rule"] == "Art.39"


def test_validate_range_rule(run: Run, tmp_path: Path) -> None:
    data = load(SUPPLEMENTARY)
    data["measures"][0]["range_item"] = "42.99"  # outside Art. 42's items
    result = run("lists", "validate", str(write(tmp_path / "range.json", data)))
    assert result.code == EXIT_INVALID_LIST
    assert "measure 'HLJ-SUP-42.1-01', rule Art.42: range item '42.99'" in result.out


def test_validate_format_and_together(run: Run, tmp_path: Path) -> None:
    (tmp_path / "garbage.json").write_text("{not json", encoding="utf-8")
    result = run("lists", "validate", str(tmp_path / "garbage.json"))
    assert result.code == EXIT_INVALID_LIST
    assert "rule format" in result.out
    twice = tmp_path / "twice"
    twice.mkdir()
    shutil.copy(SUPPLEMENTARY, twice / "a.json")
    shutil.copy(SUPPLEMENTARY, twice / "b.json")
    result = run("lists", "validate", str(twice))
    assert result.code == EXIT_INVALID_LIST
    assert "FAIL  together" in result.out
    assert "loaded twice" in result.out


def test_validate_argument_errors(run: Run, tmp_path: Path) -> None:
    result = run("lists", "validate", str(tmp_path / "missing.json"))
    assert result.code == EXIT_USAGE
    assert "no such file" in result.err
    result = run("lists", "validate", str(tmp_path))  # an empty directory
    assert result.code == EXIT_USAGE
    assert "no *.json" in result.err
    assert run("lists", "validate").code == EXIT_USAGE
    assert run("lists").code == EXIT_USAGE
    assert run("lists", "frobnicate").code == EXIT_USAGE


def test_diff(run: Run, tmp_path: Path) -> None:
    old = load(SUPPLEMENTARY)
    new = load(SUPPLEMENTARY)
    new["version"] = "sample-2026.2"
    removed = new["measures"].pop(1)["measure_id"]
    changed = new["measures"][0]
    changed["content"] += "（修订）"
    added = dict(new["measures"][2], measure_id="HLJ-SUP-42.3-99")
    new["measures"].append(added)
    new["effective_from"] = "2026-07-01"
    a, b = write(tmp_path / "old.json", old), write(tmp_path / "new.json", new)
    result = run("lists", "diff", str(a), str(b))
    assert result.code == EXIT_OK
    assert "sample-2026.1 -> sample-2026.2" in result.out
    assert "  + HLJ-SUP-42.3-99" in result.out
    assert f"  - {removed}" in result.out
    assert f"  ~ {changed['measure_id']}: content" in result.out
    assert "effective_from: 2026-01-01 -> 2026-07-01" in result.out
    data = json.loads(run("lists", "diff", str(a), str(b), "--json").out)
    assert data["added"] == ["HLJ-SUP-42.3-99"]
    assert data["empty"] is False
    same = run("lists", "diff", str(a), str(a))
    assert "(no measure changed)" in same.out


def test_diff_errors(run: Run, tmp_path: Path) -> None:
    other = SHIPPED / "hlj-incentive-sample.json"
    result = run("lists", "diff", str(SUPPLEMENTARY), str(other))
    assert result.code == EXIT_USAGE
    assert "different lists" in result.err
    result = run("lists", "diff", str(SUPPLEMENTARY), str(SHIPPED))
    assert result.code == EXIT_USAGE
    data = load(SUPPLEMENTARY)
    data["measures"][0]["legal_basis"] = []
    broken = write(tmp_path / "broken.json", data)
    result = run("lists", "diff", str(SUPPLEMENTARY), str(broken))
    assert result.code == EXIT_INVALID_LIST
    assert "rule Art.39" in result.err
    assert run("lists", "diff", str(SUPPLEMENTARY)).code == EXIT_USAGE


@pytest.mark.parametrize("command", ["show", "validate", "diff"])
def test_help_teaches(run: Run, command: str) -> None:
    result = run("lists", command, "--help")
    assert result.code == EXIT_OK
    assert "examples:" in result.out
    assert "exit codes:" in result.out
