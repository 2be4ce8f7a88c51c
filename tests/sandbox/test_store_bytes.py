"""The sandbox serves stored reports from their stored text: the same report as decoding and
encoding it would give, with a fresh id and time, and never a stale one after a change."""

from __future__ import annotations

import json

from credit_sdk import parse_identifier
from credit_sdk.sandbox.store import Store


def test_stored_bytes_are_the_stored_report_with_a_fresh_id_and_time() -> None:
    with Store() as store:
        for seeded in store.subjects():
            ident = parse_identifier(seeded["identifier"])
            served = json.loads(store.report_bytes_for(ident))
            expected = store.report_for(ident)
            assert served["report_id"].startswith("SBX-")
            assert served["report_id"] != expected["report_id"]
            for key in ("report_id", "generated_at"):
                served.pop(key)
                expected.pop(key)
            assert served == expected


def test_a_changed_report_is_served_changed_and_an_unknown_subject_empty() -> None:
    with Store() as store:
        ident = parse_identifier(store.subjects()[0]["identifier"])
        first = json.loads(store.report_bytes_for(ident))
        store.put_subject(ident, {"schema_version": "1", "subject": first["subject"]})
        again = json.loads(store.report_bytes_for(ident))
        assert "records" in first
        assert "records" not in again
        store.delete_subject(ident)
        empty = json.loads(store.report_bytes_for(ident))
        assert set(empty) == {"schema_version", "subject", "report_id", "generated_at"}
