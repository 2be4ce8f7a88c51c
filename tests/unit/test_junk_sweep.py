"""The junk sweep: every public entry point against generated input, in bounded time.

Two generators side by side: hypothesis (shrinking, whole ranges, explicit ``max_examples``,
``deadline=None``) for the shapes that matter, and a seeded ``random.Random`` that mutates valid
documents for volume (tens of thousands of inputs cost seconds). Every input may only end in a
result or in the SDK's typed error (``CreditSDKError``; ``TypeError`` only where the input's
Python type is wrong), and no message, repr or CLI output may carry a raw identifier, a name,
a phone number or a secret planted in the input.

Counts per entry point are collected in :data:`SWEPT`; ``test_the_sweep_covered_enough`` checks
the total (≥ 10,000) when the whole module runs and prints the table with ``-s``.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import json
import random
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credit_sdk import (
    Authorization,
    Catalog,
    CreditReport,
    CreditSDKError,
    MeasureList,
    PolicyProfile,
    QueryContext,
    Scenario,
    add_months,
    decide,
    parse_identifier,
)
from credit_sdk._client import _env_kwargs
from credit_sdk._data import DATA_DIR
from tests.legal.builders import resident_id, uscc

SWEPT: Counter[str] = Counter()
SEED = 20261206

PERSON_ID = resident_id("11010119900307777")
COMPANY_ID = uscc("91230100MA1C2X3Y4")
NAME = "张三丰"
PHONE = "13912345678"
SECRET = "s3cret-TOKEN-value-xyz-0042"
PLANTED = (PERSON_ID, COMPANY_ID, NAME, PHONE, SECRET)
PERSONAL = (PERSON_ID, COMPANY_ID, NAME, PHONE)

SWEEP_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    derandomize=True,
)


def assert_quiet(text: str, planted_values: tuple[str, ...] = PLANTED) -> None:
    for planted in planted_values:
        assert planted not in text, "a planted personal value or secret leaked"


@contextlib.contextmanager
def typed_only(
    entry: str, *, type_errors: bool = False, planted: tuple[str, ...] = PLANTED
) -> Iterator[None]:
    """Run one input: a result, or the SDK's typed error whose text leaks nothing."""
    SWEPT[entry] += 1
    try:
        yield
    except CreditSDKError as err:
        assert_quiet(str(err), planted)
        assert_quiet(repr(err), planted)
    except TypeError as err:
        if not type_errors:
            raise
        assert_quiet(str(err), planted)


# --- junk values ------------------------------------------------------------------------------


def junk_scalar(rng: random.Random) -> Any:
    choices: list[Callable[[], Any]] = [
        lambda: rng.choice(PLANTED),
        lambda: f"{rng.choice(PLANTED)} {rng.choice(PLANTED)}",
        lambda: rng.randint(-(2**70), 2**70),
        lambda: rng.choice([0, -1, 1, 2**53, 2**53 + 1, -(2**63)]),
        lambda: rng.uniform(-1e308, 1e308),
        lambda: rng.choice([True, False, None]),
        lambda: "x" * rng.choice([0, 1, 100, 70_000]),
        lambda: rng.choice(["", " ", "\x00", "\u3000", "\ufeff", "\ud800", "١٢٣", "🙂"]),
        lambda: random_date(rng).isoformat(),
        lambda: random_date(rng).isoformat() + "T25:61:00Z",
        lambda: rng.choice(["9999-12-31", "0001-01-01", "2026-02-30", "长期", "2026-13-01"]),
        lambda: [junk_scalar(rng) for _ in range(rng.randint(0, 3))],
        lambda: {rng.choice(PLANTED): junk_scalar(rng)},
        lambda: nested(rng.randint(1, 60)),
    ]
    return rng.choice(choices)()


def nested(depth: int) -> Any:
    value: Any = 0
    for i in range(depth):
        value = [value] if i % 2 else {"a": value}
    return value


def random_date(rng: random.Random) -> dt.date:
    return dt.date.fromordinal(rng.randint(1, dt.date.max.toordinal()))


def mutate(doc: Any, rng: random.Random, edits: int = 3) -> Any:
    """A copy of ``doc`` with a few nodes replaced, removed or retyped."""
    doc = copy.deepcopy(doc)
    for _ in range(edits):
        path: list[Any] = []
        node = doc
        while isinstance(node, dict | list) and node and rng.random() < 0.75:
            key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
            path.append(key)
            node = node[key]
        if not path:
            continue
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        action = rng.random()
        if action < 0.15 and isinstance(parent, dict):
            del parent[path[-1]]
        elif action < 0.25 and isinstance(node, str):
            parent[path[-1]] = node + rng.choice(PLANTED)
        else:
            parent[path[-1]] = junk_scalar(rng)
    return doc


def encode(doc: Any, rng: random.Random) -> bytes:
    """Serialise, then sometimes damage the bytes the way a wire or a file would."""
    try:
        raw = json.dumps(doc, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")
    except (ValueError, RecursionError):
        raw = b"{}"
    damage = rng.random()
    if damage < 0.05:
        return b"\xef\xbb\xbf" + raw
    if damage < 0.10 and raw:
        cut = rng.randrange(len(raw))
        return raw[:cut]
    if damage < 0.15 and raw:
        i = rng.randrange(len(raw))
        return raw[:i] + bytes([rng.randrange(256)]) + raw[i + 1 :]
    if damage < 0.18:
        return raw.replace(b'": ', b'": NaN, "dup": ', 1)
    return raw


def sample_reports() -> list[dict[str, Any]]:
    reports = []
    for path in sorted((DATA_DIR / "reports").glob("*.json")):
        reports.append(json.loads(path.read_text(encoding="utf-8")))
    return reports


# --- identifiers ------------------------------------------------------------------------------


IDENT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXYxyz :-_*\u3000０１２"


def test_identifiers_seeded_volume() -> None:
    rng = random.Random(SEED)
    kinds: list[Any] = [None, "resident_id", "uscc", "other", "bogus"]
    for _ in range(4000):
        length = rng.choice([0, 1, 14, 15, 16, 17, 18, 19, 30])
        text = "".join(rng.choice(IDENT_ALPHABET) for _ in range(length))
        if rng.random() < 0.3:
            base = rng.choice([PERSON_ID, COMPANY_ID])
            i = rng.randrange(len(base))
            text = base[:i] + rng.choice(IDENT_ALPHABET) + base[i + 1 :]
        kind = rng.choice(kinds)
        id_type = rng.choice([None, None, "passport", "bad type", "x" * 40])
        with typed_only("identifiers"):
            ident = parse_identifier(text, kind, id_type=id_type)
            assert_quiet(repr(ident))
            assert_quiet(ident.masked)


@SWEEP_SETTINGS
@given(st.text(max_size=40), st.sampled_from([None, "resident_id", "uscc", "other"]))
def test_identifiers_hypothesis(text: str, kind: Any) -> None:
    with typed_only("identifiers"):
        parse_identifier(text, kind)


@SWEEP_SETTINGS
@given(st.one_of(st.integers(), st.floats(), st.binary(), st.none(), st.lists(st.text())))
def test_identifier_arguments_of_the_wrong_type(value: Any) -> None:
    for call in (
        lambda: parse_identifier(value),
        lambda: parse_identifier(COMPANY_ID, value) if value is not None else None,
        lambda: parse_identifier("E1234567", "other", id_type=value) if value is not None else None,
    ):
        with typed_only("identifiers (types)", type_errors=True):
            call()


# --- reports ----------------------------------------------------------------------------------


def test_reports_as_bytes_and_dicts_seeded_volume() -> None:
    rng = random.Random(SEED + 1)
    bases = sample_reports()
    for i in range(3000):
        doc = mutate(rng.choice(bases), rng, edits=rng.randint(1, 4))
        if i % 3 == 0:
            with typed_only("reports (dict)"):
                report = CreditReport.parse(doc)
                assert_quiet(repr(report.subject.identifier))
        else:
            raw = encode(doc, rng)
            with typed_only("reports (bytes)"):
                report = CreditReport.parse(
                    raw if i % 2 else raw.decode("utf-8", "surrogateescape")
                )
                assert_quiet(repr(report.subject.identifier))


@SWEEP_SETTINGS
@given(st.binary(max_size=400))
def test_reports_from_arbitrary_bytes(raw: bytes) -> None:
    with typed_only("reports (bytes)"):
        CreditReport.parse(raw)


# --- the engine, with dates across the whole calendar ------------------------------------------


DATE_KEYS = (
    "finding_date",
    "conduct_ended_on",
    "status_changed_on",
    "listed_on",
    "term_end",
    "removed_on",
    "issued_on",
    "effective_on",
    "made_on",
    "found_on",
    "repaired_on",
    "evaluated_on",
    "valid_until",
    "filed_on",
    "decided_on",
    "since",
    "until",
    "assessed_on",
)


def redate(doc: Any, rng: random.Random) -> Any:
    if isinstance(doc, dict):
        return {
            k: (
                random_date(rng).isoformat()
                if k in DATE_KEYS and rng.random() < 0.7
                else redate(v, rng)
            )
            for k, v in doc.items()
        }
    if isinstance(doc, list):
        return [redate(v, rng) for v in doc]
    return doc


def test_decide_with_dates_across_the_whole_range() -> None:
    rng = random.Random(SEED + 2)
    bases = sample_reports()
    catalog = Catalog.default()
    profiles = [PolicyProfile.default(), PolicyProfile.get("cn-national-2026")]
    scenarios = list(Scenario)
    edges = [dt.date.min, dt.date.max, dt.date(9999, 12, 1), dt.date(1, 1, 31)]
    for _ in range(1500):
        doc = redate(rng.choice(bases), rng)
        try:
            report = CreditReport.parse(doc)
        except CreditSDKError:
            SWEPT["decide (dates)"] += 1
            continue
        as_of = rng.choice(edges) if rng.random() < 0.2 else random_date(rng)
        with typed_only("decide (dates)"):
            decision = decide(
                report,
                rng.choice(scenarios),
                as_of=as_of,
                catalog=catalog,
                profile=rng.choice(profiles),
            )
            assert_quiet(repr(decision.subject))


@SWEEP_SETTINGS
@given(st.dates(), st.integers(min_value=-(10**6), max_value=10**6))
def test_month_arithmetic_beyond_the_calendar_is_a_plain_value_error(
    start: dt.date, months: int
) -> None:
    # add_months is documented to raise ValueError when the result lies outside years
    # 1-9999; the engine's period helpers never let it get that far (see the decide sweep).
    SWEPT["add_months"] += 1
    year = start.year + (start.month - 1 + months) // 12
    if not 1 <= year <= 9999:
        with pytest.raises(ValueError, match="out of range"):
            add_months(start, months)
        return
    result = add_months(start, months)
    assert (result.year - start.year) * 12 + result.month - start.month == months
    assert result.day <= start.day


# --- measure lists and policy profiles ---------------------------------------------------------


def test_measure_lists_seeded_volume() -> None:
    rng = random.Random(SEED + 3)
    bases = [
        json.loads(p.read_text(encoding="utf-8"))
        for p in sorted((DATA_DIR / "lists").glob("*.json"))
    ]
    for i in range(800):
        doc = mutate(rng.choice(bases), rng, edits=rng.randint(1, 3))
        doc.pop("sha256", None) if isinstance(doc, dict) else None
        # A list's own short id is quoted (that is how an operator finds the list); an SDK
        # secret never flows into a public list, so only personal values must stay out.
        with typed_only("measure lists", planted=PERSONAL):
            MeasureList.from_json(doc if i % 2 else encode(doc, rng), source="sweep")


def test_policy_profiles_seeded_volume(tmp_path: Path) -> None:
    rng = random.Random(SEED + 4)
    bases = [
        json.loads(p.read_text(encoding="utf-8"))
        for p in sorted((DATA_DIR / "policies").glob("*.json"))
    ]
    path = tmp_path / "profile.json"
    for _ in range(400):
        path.write_bytes(encode(mutate(rng.choice(bases), rng, edits=rng.randint(1, 3)), rng))
        with typed_only("policy profiles"):
            PolicyProfile.load(path)


# --- query context, scenarios, authorisations ---------------------------------------------------


def test_query_inputs_seeded_volume() -> None:
    rng = random.Random(SEED + 5)
    today = dt.date(2026, 12, 6)
    for _ in range(1500):
        with typed_only("scenario", type_errors=True):
            Scenario.parse(junk_scalar(rng))
        fields = {
            k: junk_scalar(rng) if rng.random() < 0.3 else "ok-value"
            for k in ("organ", "operator", "matter_code", "purpose")
        }
        with typed_only("query context", type_errors=True):
            QueryContext(**fields)
        granted = random_date(rng)
        with typed_only("authorization", type_errors=True):
            grant = Authorization(
                grant_id=rng.choice(["G-1", junk_scalar(rng)]),
                scope=rng.choice([("personnel",), (junk_scalar(rng),), junk_scalar(rng)]),
                purpose=rng.choice(["hiring", junk_scalar(rng)]),
                granted_on=granted,
                expires_on=rng.choice([random_date(rng), granted, junk_scalar(rng)]),
            )
            grant.check(rng.choice(list(Scenario)), today)


# --- the environment ---------------------------------------------------------------------------


ENV_NAMES = (
    "CREDIT_SDK_BASE_URL",
    "CREDIT_SDK_TOKEN",
    "CREDIT_SDK_APP_ID",
    "CREDIT_SDK_APP_SECRET",
    "CREDIT_SDK_AUDIT_DB",
    "CREDIT_SDK_PSEUDONYM_KEY",
    "CREDIT_SDK_CONNECT_TIMEOUT",
    "CREDIT_SDK_READ_TIMEOUT",
    "CREDIT_SDK_DEADLINE",
    "CREDIT_SDK_FAILURE_POLICY",
    "CREDIT_SDK_MAX_STALENESS",
    "CREDIT_SDK_RAISE_ON_UNAVAILABLE",
    "CREDIT_SDK_CACHE_TTL",
    "CREDIT_SDK_MAX_LIST_STALENESS",
    "CREDIT_SDK_MAX_RETRIES",
    "CREDIT_SDK_POLICY_PROFILE",
)
GOOD_ENV = {
    "CREDIT_SDK_BASE_URL": "https://credit.example.gov.cn",
    "CREDIT_SDK_TOKEN": SECRET,
    "CREDIT_SDK_AUDIT_DB": "/nonexistent/credit-audit.db",
    "CREDIT_SDK_PSEUDONYM_KEY": "00" * 16,
}


def env_junk(rng: random.Random) -> str:
    return rng.choice(
        [
            SECRET,
            PERSON_ID,
            "nan",
            "inf",
            "-1",
            "1e999",
            "1" * 40,
            "9" * 5000,
            "0",
            "5",
            "true",
            "maybe",
            "\x00",
            "http://",
            "ftp://x",
            "https://u:p@host",
            "serve_stale",
            "z" * 100,
        ]
    )


def test_environment_seeded_volume() -> None:
    rng = random.Random(SEED + 6)
    for _ in range(1500):
        env = dict(GOOD_ENV)
        for name in rng.sample(ENV_NAMES, rng.randint(1, 4)):
            env[name] = env_junk(rng)
        with typed_only("environment"):
            _env_kwargs(env)


# --- the command line ---------------------------------------------------------------------------


CLI_WORDS = [
    "check",
    "lists",
    "validate",
    "show",
    "audit",
    "verify",
    "stats",
    "export",
    "--scenario",
    "--organ",
    "--operator",
    "--purpose",
    "--matter-code",
    "--as-of",
    "--json",
    "--db",
    "--file",
    "--lang",
    "bidding",
    "zz",
    PERSON_ID,
    COMPANY_ID,
    NAME,
    PHONE,
    SECRET,
    "9999-12-31",
    "0000-00-00",
    "-",
    "--",
    "\x00",
]


def test_cli_arguments_seeded_volume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from credit_sdk.cli import main

    for name in [*ENV_NAMES, "CREDIT_SDK_HOLIDAYS"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    junk_db = tmp_path / "junk.db"
    junk_db.write_bytes(b"not a database " + SECRET.encode())
    rng = random.Random(SEED + 7)
    words = [*CLI_WORDS, str(junk_db), str(tmp_path)]
    for _ in range(300):
        argv = [rng.choice(["check", "lists", "audit"])]
        argv += [rng.choice(words) for _ in range(rng.randint(0, 7))]
        with typed_only("CLI arguments"):
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse's own exit for bad usage
                code = exc.code if isinstance(exc.code, int) else 2
        assert isinstance(code, int)
        out = capsys.readouterr()
        for planted in (PERSON_ID, PHONE, SECRET):
            assert planted not in out.err, f"CLI error output echoed input: {argv!r}"


# --- totals ------------------------------------------------------------------------------------


def test_the_sweep_covered_enough() -> None:
    """Runs last in this module (pytest keeps file order): the totals of the whole sweep."""
    if len(SWEPT) < 8:
        return  # only part of the sweep ran (selected with -k): no total to judge
    total = sum(SWEPT.values())
    print("\njunk sweep inputs per entry point:")
    for name, count in sorted(SWEPT.items()):
        print(f"  {name:<24} {count:>6}")
    print(f"  {'total':<24} {total:>6}")
    assert total >= 10_000
