"""The report archive: the reports decisions were made from, encrypted at rest (Art. 24, 25).

Off by default. With ``CreditClient(..., report_archive=ReportArchive(key))`` every check that
decided on a report stores the report's canonical bytes (see ``credit_sdk._replay``) in the
query log's store, encrypted with **AES-256-GCM** under a key the host supplies, before the
decision is returned. Reports are personal data (Art. 24): the store only ever sees ciphertext,
the key never enters it, and the record it belongs to (query id and report digest) is bound to
the ciphertext as associated data, so a blob moved to another query does not decrypt.

Kept for ``retention`` (default 365 days) and pruned with the log (``prune``) or on its own
(``prune_archive``); a replay (``credit-sdk audit replay``) decrypts it and decides again.

>>> import hashlib
>>> report = b'{"report_id":"R1"}'
>>> archive = ReportArchive(bytes(32))
>>> sealed = archive.seal("q1", hashlib.sha256(report).hexdigest(), report)
>>> archive.open(sealed)
b'{"report_id":"R1"}'
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from credit_sdk._errors import AuditIntegrityError, ConfigurationError

__all__ = ["ArchivedReport", "ReportArchive"]

_NONCE = 12


@dataclass(frozen=True, slots=True)
class ArchivedReport:
    """One archived report as a store keeps it: the query it belongs to, the digest the
    completion record names, the id of the key it was sealed with, and the ciphertext (nonce
    first). Holds no plaintext."""

    query_id: str
    report_sha256: str
    key_id: str
    blob: bytes = field(repr=False)


def _aesgcm() -> Any:
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError as err:  # pragma: no cover - the extra is installed in tests
        raise ConfigurationError(
            "the report archive needs the 'cryptography' package: pip install 'credit-sdk[audit]'"
        ) from err
    return AESGCM


class ReportArchive:
    """The key (32 bytes, AES-256-GCM) and retention of the report archive.

    The key comes from the host (a secret store, a file only the application reads); it never
    appears in a repr, a log line or the database. ``key_id`` (16 hex digits of its SHA-256)
    names it in each archived row, so a replay with the wrong key says so.
    """

    __slots__ = ("_aead", "key_id", "retention")

    def __init__(self, key: bytes, *, retention: timedelta = timedelta(days=365)) -> None:
        if not isinstance(key, bytes) or len(key) != 32:
            raise ConfigurationError("the report archive key is 32 bytes (AES-256)")
        if not isinstance(retention, timedelta) or retention <= timedelta(0):
            raise ConfigurationError("ReportArchive(retention=...) must be a positive timedelta")
        self._aead = _aesgcm()(key)
        self.key_id = hashlib.sha256(b"credit-sdk/archive-key\x00" + key).hexdigest()[:16]
        self.retention = retention

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], **options: Any) -> ReportArchive:
        """The key from a file: 64 hex digits, or 32 raw bytes."""
        try:
            raw = Path(path).read_bytes()
        except OSError as err:
            raise ConfigurationError(f"cannot read the archive key file: {err.strerror}") from err
        text = raw.strip()
        try:
            key = bytes.fromhex(text.decode("ascii")) if len(text) == 64 else raw
        except (UnicodeDecodeError, ValueError):
            key = raw
        return cls(key, **options)

    @staticmethod
    def _aad(query_id: str, report_sha256: str) -> bytes:
        return f"credit-sdk/archive\x00{query_id}\x00{report_sha256}".encode()

    def seal(self, query_id: str, report_sha256: str, data: bytes) -> ArchivedReport:
        nonce = os.urandom(_NONCE)
        sealed = self._aead.encrypt(nonce, data, self._aad(query_id, report_sha256))
        return ArchivedReport(query_id, report_sha256, self.key_id, nonce + sealed)

    def open(self, archived: ArchivedReport) -> bytes:
        """The report bytes; :class:`~credit_sdk.AuditIntegrityError` when the row was sealed
        under another key, edited, or moved to another query."""
        if archived.key_id != self.key_id:
            raise AuditIntegrityError(
                f"the archived report of query {archived.query_id} was sealed with key "
                f"{archived.key_id}, not this one ({self.key_id})"
            )
        from cryptography.exceptions import InvalidTag

        blob = archived.blob
        try:
            data: bytes = self._aead.decrypt(
                blob[:_NONCE], blob[_NONCE:], self._aad(archived.query_id, archived.report_sha256)
            )
        except (InvalidTag, ValueError):
            raise AuditIntegrityError(
                f"the archived report of query {archived.query_id} does not decrypt: it was "
                "altered, or belongs to another query"
            ) from None
        if hashlib.sha256(data).hexdigest() != archived.report_sha256:
            raise AuditIntegrityError(
                f"the archived report of query {archived.query_id} does not match its digest"
            )
        return data

    def __repr__(self) -> str:
        return f"ReportArchive(key_id={self.key_id!r}, retention={self.retention})"
