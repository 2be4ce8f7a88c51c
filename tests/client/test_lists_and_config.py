"""Measure-list snapshots (ETag sync, sha256, last-known-good on disk, staleness) and
configuration (arguments, environment, sandbox)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any

import pytest

import credit_sdk
from credit_sdk import (
    Catalog,
    ConfigurationError,
    CreditClient,
    FailurePolicy,
    MeasureList,
    MemoryProvider,
    MemoryQueryLog,
    Outcome,
    PlatformProtocolError,
    PlatformUnavailable,
    QueryContext,
    Scenario,
)
from credit_sdk._cache import ListStore
from credit_sdk._providers import FetchedList, ListIndexEntry
from tests.client.conftest import COMPANY, KEY, severe_company_report
from tests.legal.builders import AS_OF

LIST_FILES = sorted((Path(credit_sdk.__file__).parent / "data" / "lists").glob("*.json"))


def raw_lists() -> list[bytes]:
    return [p.read_bytes() for p in LIST_FILES]


def edited(raw: bytes, version: str) -> bytes:
    data = json.loads(raw)
    data.pop("sha256", None)
    data["version"] = version
    return json.dumps(data, ensure_ascii=False).encode()


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 29, 8, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


# --- the snapshot store -------------------------------------------------------------------------


def test_sync_fetches_verifies_switches_and_keeps_a_copy_on_disk(tmp_path: Path) -> None:
    platform = MemoryProvider(lists=raw_lists())
    store = ListStore(lists_dir=tmp_path, use_shipped=False)
    assert store.snapshot is None
    assert store.sync(platform) is True
    snap = store.snapshot
    assert snap is not None
    assert snap.source == "platform"
    assert len(snap.catalog.lists) == len(LIST_FILES)
    assert platform.calls["fetch_list"] == len(LIST_FILES)
    # Unchanged index: If-None-Match answers "not modified", nothing is fetched again.
    assert store.sync(platform) is False
    assert platform.calls["fetch_list"] == len(LIST_FILES)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert {e["sha256"] for e in manifest["lists"]} == {r[2] for r in snap.refs}
    # A new edition of one list: only that one is fetched.
    platform.set_lists([edited(raw_lists()[0], "next.1"), *raw_lists()[1:]])
    assert store.sync(platform) is True
    assert platform.calls["fetch_list"] == len(LIST_FILES) + 1
    assert any(ver == "next.1" for _, ver, _ in store.snapshot.refs)  # type: ignore[union-attr]


def test_a_restart_without_the_platform_decides_on_the_last_verified_lists(
    tmp_path: Path, ctx: QueryContext
) -> None:
    ListStore(lists_dir=tmp_path, use_shipped=False).sync(MemoryProvider(lists=raw_lists()))

    class ListsDown(MemoryProvider):
        def list_index(self, etag: str | None = None) -> Any:
            raise PlatformUnavailable("down")

    down = ListsDown({COMPANY: severe_company_report()})
    with (
        MemoryQueryLog() as log,
        CreditClient(
            provider=down,
            audit=log,
            pseudonym_key=KEY,
            lists_dir=tmp_path,
            today=lambda: AS_OF,
            list_sync_interval=None,
        ) as client,
    ):
        assert client.sync_lists() is False
        status = client.status()
        assert status.last_list_sync_error is not None
        assert status.lists_source == "disk"
        assert status.ready
        decision = client.check(COMPANY, Scenario.GOVERNMENT_PROCUREMENT, ctx)
        assert decision.outcome is Outcome.RESTRICTED
        assert "STALE_LISTS" not in decision.flags  # synced minutes ago, well within a day


def test_a_list_whose_sha256_does_not_match_is_never_switched_to(tmp_path: Path) -> None:
    platform = MemoryProvider(lists=raw_lists())
    store = ListStore(lists_dir=tmp_path, use_shipped=False)
    store.sync(platform)
    before = store.snapshot

    class Tampering(MemoryProvider):
        def fetch_list(self, entry: ListIndexEntry) -> FetchedList:
            good = super().fetch_list(entry)
            bad = good.raw.replace(b"\\u", b"\\u", 1) + b" "  # same JSON, other bytes: fine
            data = json.loads(bad)
            data["title"] = data["title"] + " (altered in transit)"
            data.pop("sha256", None)
            from credit_sdk._providers import verify_list

            return verify_list(json.dumps(data).encode(), entry)

    tampering = Tampering(lists=[edited(raw_lists()[0], "next.2"), *raw_lists()[1:]])
    assert store.sync(tampering) is False
    assert store.snapshot is before
    assert store.last_error is not None
    assert "sha256" in store.last_error


def test_a_damaged_copy_on_disk_is_ignored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ListStore(lists_dir=tmp_path, use_shipped=False).sync(MemoryProvider(lists=raw_lists()))
    victim = next(p for p in tmp_path.glob("*.json") if p.name != "manifest.json")
    victim.write_bytes(victim.read_bytes().replace(b"Art", b"Arx", 1))
    with caplog.at_level(logging.ERROR):
        store = ListStore(lists_dir=tmp_path, use_shipped=False)
    assert store.snapshot is None
    assert "ignoring" in caplog.text


def test_lists_past_max_staleness_are_flagged(tmp_path: Path) -> None:
    clock = Clock()
    store = ListStore(lists_dir=tmp_path, use_shipped=False, max_staleness=3600, now=clock)
    store.sync(MemoryProvider(lists=raw_lists()))
    assert not store.is_stale()
    clock.now += dt.timedelta(hours=2)
    assert store.is_stale()
    store.sync(MemoryProvider(lists=raw_lists()))  # 304-like "unchanged" still confirms
    assert not store.is_stale()


def test_shipped_lists_are_used_but_flagged_until_confirmed(
    make_client: Any, ctx: QueryContext, tmp_path: Path
) -> None:
    platform = MemoryProvider({COMPANY: severe_company_report()})
    platform.fail_next(PlatformUnavailable("down"), times=5)
    client = make_client(
        provider=platform, catalog=None, lists_dir=tmp_path, list_sync_interval=None
    )
    decision = client.check(COMPANY, Scenario.GOVERNMENT_PROCUREMENT, ctx)
    assert client.status().lists_source == "shipped"
    assert "STALE_LISTS" in decision.flags


def test_no_lists_at_all_is_indeterminate(make_client: Any, ctx: QueryContext) -> None:
    platform = MemoryProvider({COMPANY: severe_company_report()})  # serves an empty index
    client = make_client(provider=platform, catalog=None, lists_dir=None, list_sync_interval=None)
    client._lists._snapshot = None  # as if nothing were shipped
    decision = client.check(COMPANY, Scenario.GOVERNMENT_PROCUREMENT, ctx)
    assert decision.outcome is Outcome.INDETERMINATE
    with pytest.raises(PlatformUnavailable):
        client.wait_until_ready(timeout=0)


def test_an_invalid_platform_list_keeps_the_current_ones(tmp_path: Path) -> None:
    store = ListStore(lists_dir=tmp_path, use_shipped=False)
    store.sync(MemoryProvider(lists=raw_lists()))
    before = store.snapshot

    class Broken(MemoryProvider):
        def fetch_list(self, entry: ListIndexEntry) -> FetchedList:
            raise PlatformProtocolError("not a valid list")

    broken = Broken(lists=[edited(raw_lists()[0], "next.3"), *raw_lists()[1:]])
    assert store.sync(broken) is False
    assert store.snapshot is before


def test_catalog_pins_the_lists(catalog: Catalog, make_client: Any) -> None:
    client = make_client(catalog=catalog)
    assert client.sync_lists() is False
    assert client.lists() == catalog.lists
    assert isinstance(client.lists()[0], MeasureList)


# --- configuration ------------------------------------------------------------------------------


BASE_ENV = {
    "CREDIT_SDK_BASE_URL": "http://127.0.0.1:9",
    "CREDIT_SDK_TOKEN": "env-token-value-123",
    "CREDIT_SDK_PSEUDONYM_KEY": KEY.hex(),
}


@pytest.mark.parametrize(
    ("missing", "match"),
    [
        ("CREDIT_SDK_BASE_URL", "CREDIT_SDK_BASE_URL"),
        ("CREDIT_SDK_TOKEN", "credential"),
        ("CREDIT_SDK_AUDIT_DB", "CREDIT_SDK_AUDIT_DB"),
        ("CREDIT_SDK_PSEUDONYM_KEY", "CREDIT_SDK_PSEUDONYM_KEY"),
    ],
)
def test_from_env_names_what_is_missing(tmp_path: Path, missing: str, match: str) -> None:
    env = {**BASE_ENV, "CREDIT_SDK_AUDIT_DB": str(tmp_path / "audit.db")}
    del env[missing]
    with pytest.raises(ConfigurationError, match=match):
        CreditClient.from_env(env)


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        ({"CREDIT_SDK_AUDIT_DB": "memory:"}, "not durable"),
        ({"CREDIT_SDK_PSEUDONYM_KEY": "abcd"}, "16 bytes"),
        ({"CREDIT_SDK_PSEUDONYM_KEY": "not hex at all!"}, "hex"),
        ({"CREDIT_SDK_READ_TIMEOUT": "soon"}, "READ_TIMEOUT"),
        ({"CREDIT_SDK_FAILURE_POLICY": "fail_open"}, "FAILURE_POLICY"),
        ({"CREDIT_SDK_RAISE_ON_UNAVAILABLE": "maybe"}, "true or false"),
        ({"CREDIT_SDK_APP_ID": "app"}, "one credential"),
        ({"CREDIT_SDK_OUTBOX_DEAD_LETTER_DAYS": "0"}, "OUTBOX_DEAD_LETTER_DAYS"),
        ({"CREDIT_SDK_OUTBOX_DEAD_LETTER_DAYS": "a week"}, "OUTBOX_DEAD_LETTER_DAYS"),
    ],
)
def test_from_env_refuses_bad_values(tmp_path: Path, extra: dict[str, str], match: str) -> None:
    env = {**BASE_ENV, "CREDIT_SDK_AUDIT_DB": str(tmp_path / "audit.db"), **extra}
    with pytest.raises(ConfigurationError, match=match):
        CreditClient.from_env(env)


def test_from_env_builds_a_working_client(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(KEY.hex() + "\n")
    secret_file = tmp_path / "secret"
    secret_file.write_text("an-app-secret-of-some-length\n")
    env = {
        "CREDIT_SDK_BASE_URL": "http://127.0.0.1:9",
        "CREDIT_SDK_APP_ID": "app-1",
        "CREDIT_SDK_APP_SECRET_FILE": str(secret_file),
        "CREDIT_SDK_PSEUDONYM_KEY_FILE": str(key_file),
        "CREDIT_SDK_AUDIT_DB": str(tmp_path / "audit.db"),
        "CREDIT_SDK_LISTS_DIR": str(tmp_path / "lists"),
        "CREDIT_SDK_FAILURE_POLICY": "serve_stale",
        "CREDIT_SDK_MAX_STALENESS": "900",
        "CREDIT_SDK_CONNECT_TIMEOUT": "0.5",
        "CREDIT_SDK_MAX_RETRIES": "1",
        "CREDIT_SDK_POLICY_PROFILE": "hlj-draft-2021",
        "CREDIT_SDK_OUTBOX_DEAD_LETTER_DAYS": "2.5",
    }
    client = CreditClient.from_env(env)
    try:
        assert client._sender.dead_letter_after == 2.5 * 86400
        assert client.failure_policy == FailurePolicy.serve_stale(900)
        assert "HmacCredentials(app_id='app-1', secret='***')" in repr(client)
        assert "an-app-secret" not in repr(client)
        assert client._transport_config is not None
        assert client._transport_config.connect_timeout == 0.5
        assert client._transport_config.retry.max_attempts == 2
    finally:
        client.close()
        client._audit.close()


def test_constructor_requires_url_credential_log_and_key() -> None:
    log = MemoryQueryLog()
    with pytest.raises(ConfigurationError, match="URL"):
        CreditClient(token="t", audit=log, pseudonym_key=KEY)
    with pytest.raises(ConfigurationError, match="credential"):
        CreditClient("http://127.0.0.1:9", audit=log, pseudonym_key=KEY)
    with pytest.raises(ConfigurationError, match="query log"):
        CreditClient("http://127.0.0.1:9", token="t", audit=None, pseudonym_key=KEY)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="pseudonym key"):
        CreditClient("http://127.0.0.1:9", token="t", audit=log, pseudonym_key=None)
    with pytest.raises(ConfigurationError, match="serve_stale"):
        FailurePolicy("serve_stale")


def test_sandbox_client_says_what_it_defaults(caplog: pytest.LogCaptureFixture) -> None:
    with (
        caplog.at_level(logging.WARNING),
        CreditClient.sandbox(
            "http://127.0.0.1:9", token="sandbox-token", list_sync_interval=None
        ) as client,
    ):
        assert "in memory" in caplog.text
        assert "random key" in caplog.text
        assert "sandbox-token" not in repr(client)


def test_old_editions_are_pruned_but_other_files_are_left_alone(tmp_path: Path) -> None:
    (tmp_path / "notes.json").write_text("{}")
    store = ListStore(lists_dir=tmp_path, use_shipped=False)
    store.sync(MemoryProvider(lists=raw_lists()))
    store.sync(MemoryProvider(lists=[edited(raw_lists()[0], "next.4"), *raw_lists()[1:]]))
    editions = [p for p in tmp_path.glob("*.json") if len(p.stem) == 64]
    assert len(editions) == len(LIST_FILES)
    assert (tmp_path / "notes.json").exists()


def test_importing_the_sdk_starts_nothing_and_loads_no_optional_machinery() -> None:
    import subprocess
    import sys

    code = (
        "import sys, threading, credit_sdk\n"
        "assert threading.active_count() == 1, threading.enumerate()\n"
        "loaded = [m for m in ('tenacity', 'opentelemetry', 'chinese_calendar') "
        "if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
