"""Property-based contract test: schemathesis drives the sandbox from ``openapi.yaml``.

schemathesis 4.x API used (checked against the installed 4.32.5):

* ``schemathesis.Config.from_dict({...})``: the same keys as ``schemathesis.toml``;
* ``schemathesis.openapi.from_path(path, config=config)``: the shipped document, not one the
  server serves, so the test checks the document users get;
* ``@schema.parametrize()``: one test per operation (7);
* ``case.call_and_validate(base_url=..., headers=..., session=...)``: a real HTTP call to a
  :class:`SandboxServer` on loopback, then every default check (status codes, content types,
  response schemas and headers, positive data accepted, negative data rejected, auth not
  ignored, no 5xx).

Bounded and deterministic: 20 examples per operation and mode (positive and negative),
``deterministic`` (Hypothesis ``derandomize``) and no example database, so every run sends the
same requests. About 10 s.

Two adjustments, both because JSON Schema cannot say what the platform checks:

* A subject number must pass GB 11643 / GB 32100 (check character, date, region): the schema
  only bounds its length. Before each call, every subject whose *shape* fits the schema is
  swapped for one of the seeded subjects, so schema-valid requests are also platform-valid and
  ``positive_data_acceptance`` keeps its meaning. Subjects with a broken shape are left alone,
  so negative cases stay negative.
* ``413`` is how the contract refuses a batch over 100 queries or feedback over 500 items, so it
  counts as a rejection for ``negative_data_rejection``.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from importlib import resources
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
requests = pytest.importorskip("requests")

from credit_sdk.sandbox import SandboxServer, seeded_subjects  # noqa: E402

_REJECTED = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]

CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {
            "mode": "all",
            "max-examples": 20,
            "deterministic": True,
            "database": "none",
        },
        "checks": {"negative_data_rejection": {"expected-statuses": _REJECTED}},
    }
)
schema = schemathesis.openapi.from_path(
    str(resources.files("credit_sdk.sandbox") / "openapi.yaml"), config=CONFIG
)

_SUBJECTS = [s.subject for s in seeded_subjects()]


def _fits_schema(ref: Any) -> bool:
    if not isinstance(ref, dict) or ref.get("kind") not in ("resident_id", "uscc", "other"):
        return False
    number, id_type = ref.get("number"), ref.get("id_type")
    if not (isinstance(number, str) and 1 <= len(number) <= 64):
        return False
    return id_type is None or (isinstance(id_type, str) and 1 <= len(id_type) <= 32)


def _swap(ref: Any) -> Any:
    if not _fits_schema(ref):
        return ref
    # crc32, not hash(): the same generated number maps to the same subject in every run.
    key = zlib.crc32(ref["number"].encode("utf-8", "surrogatepass"))
    return dict(_SUBJECTS[key % len(_SUBJECTS)])


def _valid_subjects(body: Any) -> None:
    if not isinstance(body, dict):
        return
    if "subject" in body:
        body["subject"] = _swap(body["subject"])
    queries = body.get("queries")
    if isinstance(queries, list):
        for query in queries:
            if isinstance(query, dict) and "subject" in query:
                query["subject"] = _swap(query["subject"])


@pytest.fixture(scope="module")
def contract_server() -> Iterator[SandboxServer]:
    # Its own server: generated objections and feedback change state that other layers'
    # tests, sharing the session's sandbox, rely on.
    with SandboxServer() as server:
        yield server


@pytest.fixture(scope="module")
def http() -> Iterator[Any]:
    with requests.Session() as session:
        yield session


@schema.parametrize()
def test_sandbox_honours_the_contract(case: Any, contract_server: SandboxServer, http: Any) -> None:
    _valid_subjects(case.body)
    case.call_and_validate(
        base_url=contract_server.url, headers=contract_server.auth_headers(), session=http
    )
