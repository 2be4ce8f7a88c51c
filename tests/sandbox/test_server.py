"""SandboxServer on a real loopback socket, its admin helpers, and the command line."""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from credit_sdk import CreditReport
from credit_sdk.sandbox import (
    DEFAULT_APP_ID,
    DEFAULT_TOKEN,
    SandboxAdmin,
    SandboxServer,
    seeded_subject,
)
from credit_sdk.sandbox.cli import main, register, run
from credit_sdk.sandbox.server import is_loopback
from tests.sandbox.helpers import report_query, subject


def test_starts_and_stops_fast_without_leaking_threads() -> None:
    threads_before = set(threading.enumerate())
    started = time.perf_counter()
    server = SandboxServer().start()
    start_time = time.perf_counter() - started
    try:
        assert server.running
        assert server.url.startswith("http://127.0.0.1:")
        assert server.port > 0
        assert httpx.get(server.url + "/v1/health").status_code == 200
        server.admin.subjects()  # creates the admin client that stop() must close
    finally:
        stopping = time.perf_counter()
        server.stop()
        stop_time = time.perf_counter() - stopping
    assert start_time < 1.0
    assert stop_time < 1.0
    assert not server.running
    assert set(threading.enumerate()) <= threads_before
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url + "/v1/health")
    server.stop()  # twice is fine


def test_two_servers_get_two_free_ports() -> None:
    with SandboxServer() as a, SandboxServer() as b:
        assert a.port != b.port
        assert (
            httpx.get(a.url + "/v1/health").status_code
            == httpx.get(b.url + "/v1/health").status_code
        )


def test_stop_with_an_open_keep_alive_connection_is_still_fast() -> None:
    server = SandboxServer().start()
    client = httpx.Client(base_url=server.url)
    try:
        client.get("/v1/health")  # the connection stays in the client's pool
        started = time.perf_counter()
        server.stop()
        assert time.perf_counter() - started < 1.0
    finally:
        client.close()
        server.stop()


def test_start_twice_is_refused_and_unstarted_admin_is_an_error() -> None:
    server = SandboxServer()
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.admin
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.state
    with server, pytest.raises(RuntimeError, match="already"):
        server.start()
    assert "stopped" in repr(server)


def test_a_busy_port_fails_cleanly() -> None:
    with SandboxServer() as first, pytest.raises(OSError, match="in use"):
        SandboxServer(port=first.port).start()


def test_credentials_and_helpers(sandbox_server: SandboxServer) -> None:
    assert sandbox_server.token == DEFAULT_TOKEN
    assert sandbox_server.app_id == DEFAULT_APP_ID
    assert sandbox_server.auth_headers() == {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
    assert {s.state for s in sandbox_server.seeded} >= {"severe_list", "clean"}
    body = json.dumps(report_query(subject("severe_list"))).encode()
    headers = sandbox_server.signed_headers("POST", "/v1/reports:query", body)
    response = httpx.post(
        sandbox_server.url + "/v1/reports:query",
        content=body,
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 200
    assert CreditReport.parse(response.content).list_memberships


def test_signed_percent_encoded_target(sandbox_server: SandboxServer) -> None:
    # httpx sends the path percent-encoded; signing that spelling (raw_path) verifies.
    with httpx.Client(base_url=sandbox_server.url) as client:
        request = client.build_request("GET", "/v1/measure-lists/a b/versions/1?x=1")
        target = request.url.raw_path.decode()
        assert "%20" in target
        request.headers.update(sandbox_server.signed_headers("GET", target))
        assert client.send(request).status_code == 404  # authenticated, no such edition


def test_custom_credentials_on_a_server() -> None:
    with SandboxServer(token="tok-xyz-0123456789", app_id="app-x", app_secret="sec-x") as server:
        assert server.app_secret == b"sec-x"
        ok = httpx.get(server.url + "/v1/measure-lists", headers=server.auth_headers())
        assert ok.status_code == 200
        signed = server.signed_headers("GET", "/v1/measure-lists")
        assert httpx.get(server.url + "/v1/measure-lists", headers=signed).status_code == 200
        assert "tok-xyz" not in repr(server)


def test_admin_helpers_round_trip(sandbox_server: SandboxServer) -> None:
    admin = sandbox_server.admin
    try:
        fault = admin.inject_fault("health", status=503, retry_after=3, times=1)
        assert fault == {
            "route": "health", "status": 503, "retry_after": 3, "latency_ms": 0, "mode": None,
            "times": 1, "size_bytes": None, "remaining": 1,
        }  # fmt: skip
        assert httpx.get(sandbox_server.url + "/v1/health").status_code == 503
        assert admin.faults() == []
        ref = {"kind": "uscc", "number": "91110000600037341L"}
        admin.set_subject(ref, state="severe_list")
        states = {s["masked"]: s["state"] for s in admin.subjects()}
        assert states["9111**********341L"] == "severe_list"
        admin.set_subject(ref, state="unknown")
        with pytest.raises(httpx.HTTPStatusError):
            admin.inject_fault("nowhere", status=503)
        assert isinstance(admin.requests(), dict)
        assert isinstance(admin.feedback(), list)
        assert isinstance(admin.objections(), list)
    finally:
        admin.clear_faults()


def test_standalone_admin_and_reset() -> None:
    with SandboxServer() as server, SandboxAdmin(server.url, server.token) as admin:
        admin.set_subject(seeded_subject("severe_list").subject, state="unknown")
        admin.reset()
        states = {s["state"] for s in admin.subjects()}
        assert "severe_list" in states
        assert admin.requests() == {}
        admin.reset_requests()
        assert "SandboxAdmin" in repr(admin)


def test_file_store_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    ref = {"kind": "uscc", "number": "91110000600037341L"}
    with SandboxServer(db=db) as server:
        server.admin.set_subject(ref, state="red_list")
        pseudonyms = {s["masked"]: s["pseudonym"] for s in server.admin.subjects()}
    with SandboxServer(db=db) as server:
        again = {s["masked"]: s["pseudonym"] for s in server.admin.subjects()}
        assert again == pseudonyms  # same key, seeded once, the added subject kept
        body = report_query(ref)
        response = httpx.post(
            server.url + "/v1/reports:query", json=body, headers=server.auth_headers()
        )
        assert CreditReport.parse(response.content).list_memberships


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.1.2.3", True), ("::1", True), ("localhost", True),
     ("0.0.0.0", False), ("10.0.0.1", False), ("example.org", False)],
)  # fmt: skip
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


# --- command line ----------------------------------------------------------------------------


def test_register_adds_the_sandbox_subcommand() -> None:
    parser = argparse.ArgumentParser(prog="credit-sdk")
    sub = parser.add_subparsers(dest="command")
    register(sub)
    args = parser.parse_args(["sandbox", "--port", "0", "--db", "x.db", "--token", "t"])
    assert (args.command, args.host, args.port, args.db, args.token) == (
        "sandbox", "127.0.0.1", 0, "x.db", "t",
    )  # fmt: skip
    assert args.handler is run
    assert args.func is run
    assert parser.parse_args(["sandbox"]).port == 8765


def test_refuses_other_interfaces_with_public_credentials(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--host", "0.0.0.0", "--port", "0"]) == 2
    assert "refusing" in capsys.readouterr().err


def test_busy_port_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    with SandboxServer() as server:
        args = argparse.Namespace(
            host="127.0.0.1", port=server.port, db=None, token=None, app_id=None,
            app_secret=None, no_seed=False, log_level="warning",
        )  # fmt: skip
        assert run(args, out=io.StringIO()) == 1
    assert "cannot listen" in capsys.readouterr().err


def test_python_dash_m_runs_the_sandbox_and_stops_on_ctrl_c() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "credit_sdk.sandbox", "--port", "0", "--log-level", "warning"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        banner = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            banner.append(line)
            if "Press Ctrl-C" in line:
                break
        text = "".join(banner)
        assert "NOT a production credit platform" in text
        assert DEFAULT_TOKEN in text
        url = next(w for w in text.split() if w.startswith("http://127.0.0.1:"))
        assert httpx.get(url + "/v1/health").json()["production"] is False
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_stop_during_injected_latency_is_fast_and_quiet(caplog: pytest.LogCaptureFixture) -> None:
    server = SandboxServer().start()
    try:
        server.admin.inject_fault("health", latency_ms=60_000)
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(server.url + "/v1/health", timeout=httpx.Timeout(5, read=0.2))
        with caplog.at_level(logging.WARNING):
            started = time.perf_counter()
            server.stop()
            assert time.perf_counter() - started < 1.0
    finally:
        server.stop()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_a_client_hanging_up_on_an_oversized_body_leaves_no_noise(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING), SandboxServer() as server:
        server.admin.inject_fault("health", mode="oversized", times=1)
        with httpx.Client(base_url=server.url) as client, client.stream("GET", "/v1/health") as r:
            next(r.iter_bytes())
        assert httpx.get(server.url + "/v1/health").status_code == 200
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
