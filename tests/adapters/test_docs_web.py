"""docs/integration-web.md: every snippet runs as written against the sandbox, and the apps it
builds answer as the page says (each with its framework's own test client)."""

from __future__ import annotations

import contextlib
import io
import re
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.adapters.support import (
    AS_OF,
    TestClient,
    assert_masked_only,
    assert_problem,
    configure_django,
    raw,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "integration-web.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
URL, TOKEN = "http://127.0.0.1:8765", "sandbox-token-not-a-secret"


def name_of(block: str) -> str:
    """The file a snippet is (its first-line comment), or what it shows."""
    first = block.splitlines()[0]
    if first.startswith("# "):
        return first[2:].split()[0].split(":")[0]
    return "policy" if "RefusalPolicy()" in block else "testing"


NAMES = [name_of(b) for b in BLOCKS]


@pytest.fixture
def sandbox(sandbox_server: Any) -> Iterator[Any]:
    sandbox_server.admin.reset()
    yield sandbox_server
    sandbox_server.admin.clear_faults()


def source(name: str, sandbox: Any) -> str:
    block = BLOCKS[NAMES.index(name)]
    if URL in block:
        # The page's sandbox is the fixture's; its check date is the sample data's.
        block = block.replace(URL, sandbox.url).replace(
            f'token="{TOKEN}"', f'token="{sandbox.token}", today=__today__'
        )
        assert "today=__today__" in block
    return block


def run(name: str, sandbox: Any, module: str = "snippet") -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": module, "__today__": lambda: AS_OF}
    # dont_inherit: the page is read as written, not with this module's __future__ imports.
    code = compile(source(name, sandbox), f"{DOC.name}:{name}", "exec", dont_inherit=True)
    exec(code, namespace)
    return namespace


def test_the_page_has_every_snippet() -> None:
    assert NAMES == [
        "licences.py",
        "async_licences.py",
        "bids.py",
        "bids_app_wide.py",
        "hiring.py",
        "permits/settings.py",
        "permits/credit.py",
        "permits/views.py",
        "permits/urls.py",
        "subsidies.py",
        "policy",
        "testing",
    ]


def test_fastapi(sandbox: Any) -> None:
    app = run("licences.py", sandbox)["app"]
    headers = {"X-Officer-Id": "u1024"}
    with TestClient(app) as http:
        clear = http.post(
            "/applications",
            headers=headers,
            json={"application_no": "2026-118", "applicant_id": raw("clean")},
        )
        refused = http.post(
            "/applications",
            headers=headers,
            json={"application_no": "2026-120", "applicant_id": raw("severe_list")},
        )
        no_officer = http.post("/applications", json={"application_no": "1", "applicant_id": "x"})
    assert clear.json()["credit"] == "CLEAR"
    assert clear.json()["commitment_route"] is True
    problem = assert_problem(
        refused.status_code, refused.headers, refused.content,
        expected_status=403, slug="credit-restricted",
    )  # fmt: skip
    assert problem["restrictions"][0]["measure_id"] == "HLJ-RES-41.1-01"
    assert problem["reason_codes"] == ["SEVERE_DISHONESTY"]  # lists synced in the lifespan
    assert_masked_only("severe_list", refused.content, refused.headers)
    assert no_officer.status_code == 422  # FastAPI's own validation: the header is required


def test_fastapi_async(sandbox: Any) -> None:
    app = run("async_licences.py", sandbox)["app"]
    with TestClient(app) as http:
        assert http.post("/applications", json={"applicant_id": raw("red_list")}).json() == {
            "credit": "INCENTIVES"
        }
        review = http.post("/applications", json={"applicant_id": raw("disputed")})
    # install(app, client) ran inside the lifespan: refusals are still problem documents.
    problem = assert_problem(
        review.status_code, review.headers, review.content,
        expected_status=409, slug="credit-review",
    )  # fmt: skip
    assert problem["outcome"] == "REVIEW"
    assert "detail" in problem
    assert problem["title"].startswith("信用信息异议处理中")


def test_starlette(sandbox: Any) -> None:
    app = run("bids.py", sandbox)["app"]
    with TestClient(app) as http:
        admitted = http.post(
            "/tenders/T-17/bids",
            json={"bidder_id": raw("red_list")},
            headers={"X-Officer-Id": "u7"},
        )
        refused = http.post(
            "/tenders/T-17/bids",
            json={"bidder_id": raw("general_dishonesty")},
            headers={"X-Officer-Id": "u7"},
        )
        withdrawn = http.post("/tenders/T-17/withdrawals", json={})
    assert admitted.json() == {"admitted": True, "credit": "INCENTIVES"}
    assert refused.status_code == 403
    assert withdrawn.json() == {"withdrawn": True}
    assert sandbox.admin.requests()["reports:query"] == 2


def test_starlette_app_wide(sandbox: Any) -> None:
    app = run("bids_app_wide.py", sandbox)["app"]
    fields = {"organ": "230100-GGZY", "operator": "u7", "matter_code": "BID-2026-017",
              "purpose": "bid admission, tender T-17"}  # fmt: skip
    with TestClient(app) as http:
        admitted = http.post("/tenders/T-17/bids", json={"bidder_id": raw("clean"), **fields})
        missing = http.post("/tenders/T-17/bids", json={"bidder_id": raw("clean")})
    assert admitted.json() == {"admitted": True, "credit": "CLEAR"}
    assert missing.status_code == 400
    assert missing.json()["rule"] == "context_missing"


def test_flask(sandbox: Any) -> None:
    namespace = run("hiring.py", sandbox)
    consent = {"grant_id": "G-2026-0042", "granted_on": "2026-11-01", "expires_on": "2027-02-01"}
    try:
        http = namespace["app"].test_client()
        cleared = http.post(
            "/hiring/HR-7",
            json={"candidate": {"id_number": raw("prohibited_fields")}, "consent": consent},
        )
        refused = http.post(
            "/hiring/HR-7",
            json={"candidate": {"id_number": raw("judgment_defaulter")}, "consent": consent},
        )
        unconsented = http.post(
            "/hiring/HR-7", json={"candidate": {"id_number": raw("judgment_defaulter")}}
        )
    finally:
        namespace["client"].close()
    assert cleared.get_json()["credit"] == "CLEAR"
    assert refused.status_code == 403
    assert_masked_only("judgment_defaulter", refused.data, refused.headers)
    assert unconsented.get_json()["type"] == "urn:credit-sdk:problem:authorization-required"


@pytest.fixture
def permits(sandbox: Any) -> Iterator[dict[str, Any]]:
    """The page's Django project as importable modules: permits.credit, .views, .urls."""
    configure_django()
    package = types.ModuleType("permits")
    package.__path__ = []
    sys.modules["permits"] = package
    made = ["permits"]
    try:
        for name in ("credit", "views", "urls"):
            module = types.ModuleType(f"permits.{name}")
            sys.modules[module.__name__] = module
            made.append(module.__name__)
            setattr(package, name, module)
            namespace = run(f"permits/{name}.py", sandbox, module.__name__)
            module.__dict__.update(namespace)
        settings = run("permits/settings.py", sandbox)
        yield settings
    finally:
        credit = sys.modules.get("permits.credit")
        if credit is not None and hasattr(credit, "client"):
            credit.client.close()
        for name in made:
            sys.modules.pop(name, None)


def test_django(permits: dict[str, Any]) -> None:
    from django.test import Client, override_settings

    with override_settings(
        ROOT_URLCONF="permits.urls",
        MIDDLEWARE=permits["MIDDLEWARE"],
        CREDIT_SDK=permits["CREDIT_SDK"],
    ):
        http = Client()
        applied = http.post("/applications/", {"applicant_id": raw("clean")})
        refused = http.post("/applications/", {"applicant_id": raw("severe_list")})
        bid = http.post("/tenders/T-17/bids/", {"bidder_id": raw("red_list")})
        bad = http.post("/tenders/T-17/bids/", {"bidder_id": "91230100MA1EXA017"})
    assert applied.json()["credit"] == "CLEAR"
    assert refused.status_code == 403
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert bid.json() == {"tender": "T-17", "credit": "INCENTIVES"}
    assert bad.status_code == 422
    assert bad.json()["rule"] == "length"


def test_decorators(sandbox: Any) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        run("subsidies.py", sandbox)
    assert out.getvalue().splitlines() == [
        "granted 500000 yuan (CLEAR)",
        "403 ['限制获得财政性资金和政府政策、项目支持']",
        "deferred (Art. 53)",
    ]


def test_policy_and_testing_snippets_run(sandbox: Any) -> None:
    run("policy", sandbox)
    run("testing", sandbox)
