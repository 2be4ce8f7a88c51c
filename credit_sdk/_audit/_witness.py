"""Signed checkpoints of the query log, held by someone else (Art. 25).

A hash chain shows that records were changed, but anyone who can write the database can
recompute every hash after the point they change, or cut off the newest records. A
**checkpoint** fixes the chain at one point: the sequence number and hash of its newest record
and the time, signed with a key that is *not* in the database. Copies of it go to witnesses
outside the machine (the credit platform, a file, any sink the host names). Whoever holds one
can later prove that the log still contains exactly that record at that position: a rewrite or
a truncation at or before it no longer verifies.

The signature is **Ed25519** (RFC 8032), from the ``cryptography`` package (the
``credit-sdk[audit]`` extra). A public-key signature lets every witness and auditor check a
checkpoint with the public key alone; an HMAC would have to give each of them the secret, and
each could then forge checkpoints.

The signed statement is::

    b"credit-sdk/checkpoint\\0"
    + canonical_json({"at": .., "hash": .., "key": .., "seq": .., "v": 1})

where ``key`` is the signing key's id (the first 16 hex digits of the SHA-256 of the raw public
key), so a statement can never be mistaken for another use of the key.

>>> signer = CheckpointSigner.generate()
>>> cp = signer.sign(7, "ab" * 32, "2026-03-01T08:00:00.000000Z")
>>> cp.verify(signer.public_key)
True
>>> SignedCheckpoint.from_json(cp.to_json()) == cp
True
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from credit_sdk._errors import AuditError, AuditIntegrityError, ConfigurationError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = [
    "CheckpointPolicy",
    "CheckpointSigner",
    "Checkpointer",
    "FileCheckpointSink",
    "SignedCheckpoint",
    "expectations",
    "load_public_key",
    "read_checkpoints",
]

_DOMAIN = b"credit-sdk/checkpoint\x00"
# The query log's canonical JSON (sorted keys, compact, UTF-8), without importing the record
# types (which name SignedCheckpoint in the QueryLog protocol).
canonical_json = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode
_VERSION = 1
_HEX = re.compile(r"[0-9a-f]*")
_AT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


def _ed25519() -> Any:
    try:
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError as err:  # pragma: no cover - the extra is installed in tests
        raise ConfigurationError(
            "signed checkpoints need the 'cryptography' package: pip install 'credit-sdk[audit]'"
        ) from err
    return ed25519


def key_id(public_key: bytes) -> str:
    """The id a checkpoint names its key by: 16 hex digits of SHA-256 of the raw public key."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def _hex(name: str, value: object, length: int) -> str:
    if not isinstance(value, str) or len(value) != length or not _HEX.fullmatch(value):
        raise AuditError(f"checkpoint field {name!r} must be {length} lower-case hex digits")
    return value


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """A signed statement that record ``seq`` of the log has hash ``hash`` (at time ``at``).

    ``to_json`` / ``from_json`` give the one-line form witnesses keep.
    """

    seq: int
    hash: str
    at: str
    key: str
    signature: str

    def __post_init__(self) -> None:
        if not isinstance(self.seq, int) or isinstance(self.seq, bool) or self.seq < 0:
            raise AuditError("checkpoint field 'seq' must be a non-negative int")
        _hex("hash", self.hash, 64)
        _hex("key", self.key, 16)
        _hex("signature", self.signature, 128)
        if not isinstance(self.at, str) or not _AT.fullmatch(self.at):
            raise AuditError("checkpoint field 'at' must be a UTC time like 2026-03-01T08:00:00Z")

    @staticmethod
    def statement_of(seq: int, digest: str, at: str, key: str) -> bytes:
        """The bytes that are signed."""
        return _DOMAIN + canonical_json(
            {"v": _VERSION, "seq": seq, "hash": digest, "at": at, "key": key}
        ).encode("utf-8")

    @property
    def statement(self) -> bytes:
        return self.statement_of(self.seq, self.hash, self.at, self.key)

    def verify(self, public_key: bytes) -> bool:
        """Whether the signature is this key's, over this statement."""
        if key_id(public_key) != self.key:
            return False
        ed25519 = _ed25519()
        from cryptography.exceptions import InvalidSignature

        try:
            ed25519.Ed25519PublicKey.from_public_bytes(public_key).verify(
                bytes.fromhex(self.signature), self.statement
            )
        except (InvalidSignature, ValueError):
            return False
        return True

    def to_dict(self) -> dict[str, Any]:
        return {
            "v": _VERSION,
            "seq": self.seq,
            "hash": self.hash,
            "at": self.at,
            "key": self.key,
            "signature": self.signature,
        }

    def to_json(self) -> str:
        """One line of canonical JSON (what the file sink appends and the record body holds)."""
        return canonical_json(self.to_dict())

    @classmethod
    def from_dict(cls, data: Any) -> SignedCheckpoint:
        if not isinstance(data, dict) or data.get("v") != _VERSION:
            raise AuditError("not a credit-sdk checkpoint (version 1)")
        try:
            return cls(data["seq"], data["hash"], data["at"], data["key"], data["signature"])
        except KeyError as err:
            raise AuditError(f"checkpoint field {err.args[0]!r} is missing") from None

    @classmethod
    def from_json(cls, text: str) -> SignedCheckpoint:
        try:
            data = json.loads(text)
        except ValueError:
            raise AuditError("a checkpoint line is not JSON") from None
        return cls.from_dict(data)


class CheckpointSigner:
    """The Ed25519 key that signs checkpoints. It must **not** be kept in the database: load it
    from a file only the application can read (or a secret store), and give the public key to
    the witnesses and auditors.

    Key files hold the 32-byte private key as 64 hex digits, or a PKCS#8 PEM. The key never
    appears in a repr, a log line or an exception.
    """

    __slots__ = ("_key", "key_id", "public_key")

    def __init__(self, private_key: bytes) -> None:
        ed25519 = _ed25519()
        if not isinstance(private_key, bytes) or len(private_key) != 32:
            raise ConfigurationError("an Ed25519 private key is 32 bytes")
        self._key: Ed25519PrivateKey = ed25519.Ed25519PrivateKey.from_private_bytes(private_key)
        self.public_key: bytes = self._key.public_key().public_bytes_raw()
        self.key_id = key_id(self.public_key)

    @classmethod
    def generate(cls) -> CheckpointSigner:
        return cls(os.urandom(32))

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> CheckpointSigner:
        try:
            raw = Path(path).read_bytes()
        except OSError as err:
            raise ConfigurationError(f"cannot read the signing key file: {err.strerror}") from err
        text = raw.decode("ascii", "replace").strip()
        if re.fullmatch(r"[0-9a-fA-F]{64}", text):
            return cls(bytes.fromhex(text))
        if "PRIVATE KEY" in text:
            from cryptography.hazmat.primitives import serialization

            try:
                key = serialization.load_pem_private_key(raw, password=None)
            except (ValueError, TypeError):
                raise ConfigurationError("the signing key file holds no usable key") from None
            if not isinstance(key, _ed25519().Ed25519PrivateKey):
                raise ConfigurationError("the signing key file holds a key that is not Ed25519")
            return cls(key.private_bytes_raw())
        raise ConfigurationError(
            "the signing key file must hold an Ed25519 key as 64 hex digits or a PKCS#8 PEM"
        )

    def private_hex(self) -> str:
        """The private key as hex, for writing a new key file (``credit-sdk audit keygen``)."""
        return self._key.private_bytes_raw().hex()

    def sign(self, seq: int, digest: str, at: str) -> SignedCheckpoint:
        statement = SignedCheckpoint.statement_of(seq, digest, at, self.key_id)
        return SignedCheckpoint(seq, digest, at, self.key_id, self._key.sign(statement).hex())

    def __repr__(self) -> str:
        return f"CheckpointSigner(key_id={self.key_id!r})"


def load_public_key(path: str | os.PathLike[str]) -> bytes:
    """A checkpoint public key from a file: 64 hex digits, or a PEM ``PUBLIC KEY``."""
    try:
        raw = Path(path).read_bytes()
    except OSError as err:
        raise ConfigurationError(f"cannot read the public key file: {err.strerror}") from err
    text = raw.decode("ascii", "replace").strip()
    if re.fullmatch(r"[0-9a-fA-F]{64}", text):
        return bytes.fromhex(text)
    if "PUBLIC KEY" in text:
        from cryptography.hazmat.primitives import serialization

        try:
            key = serialization.load_pem_public_key(raw)
        except (ValueError, TypeError):
            raise ConfigurationError("the public key file holds no usable key") from None
        if not isinstance(key, _ed25519().Ed25519PublicKey):
            raise ConfigurationError("the public key file holds a key that is not Ed25519")
        return bytes(key.public_bytes_raw())
    raise ConfigurationError("the public key file must hold 64 hex digits or a PEM public key")


def read_checkpoints(path: str | os.PathLike[str]) -> list[SignedCheckpoint]:
    """Every checkpoint in a file of one JSON checkpoint per line (what
    :class:`FileCheckpointSink` writes); blank lines are skipped, anything else is an error
    naming the line."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigurationError(f"cannot read the checkpoint file: {err}") from err
    out = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            out.append(SignedCheckpoint.from_json(line))
        except AuditError as err:
            raise ConfigurationError(f"checkpoint file line {number}: {err}") from None
    return out


def witnessed(
    checkpoints: Iterable[SignedCheckpoint], public_key: bytes | None
) -> dict[int, tuple[str, str]]:
    """``{seq: (hash, what)}`` from checkpoints whose signatures verify under ``public_key``.
    A checkpoint that does not verify is an error (a forged or damaged witness copy), and so
    are two that disagree about one position."""
    out: dict[int, tuple[str, str]] = {}
    for cp in checkpoints:
        if public_key is None:
            raise ConfigurationError("checking signed checkpoints needs the public key")
        if not cp.verify(public_key):
            raise ConfigurationError(
                f"the checkpoint for record {cp.seq} (at {cp.at}) is not signed by this key"
            )
        seen = out.get(cp.seq)
        if seen is not None and seen[0] != cp.hash:
            raise ConfigurationError(f"two signed checkpoints disagree about record {cp.seq}")
        out[cp.seq] = (cp.hash, f"the checkpoint signed at {cp.at}")
    return out


#: Where copies of each checkpoint go besides the log itself: called with each checkpoint
#: after it is committed, in order. A sink must tolerate being handed one it has seen already:
#: the store keeps a mark of the newest checkpoint every sink took, and hands the ones after it
#: again when the log is next opened or checkpointed (after a crash between the commit and the
#: sinks, or a sink that raised). A sink that raises is logged; the checkpoint stays in the log.
CheckpointSink = Callable[[SignedCheckpoint], None]

#: How far back the file sink looks for a line it is handed again (about 250 checkpoints).
_TAIL_BYTES = 64 * 1024


class FileCheckpointSink:
    """Appends each checkpoint as one JSON line to a file (mode 0600) and syncs it: point it at
    storage the database's writers cannot rewrite (another host, a WORM mount, a file that a
    separate job ships away). ``credit-sdk audit verify --checkpoints FILE`` reads it.

    A checkpoint handed again (the store re-offers those it has no acknowledgement for) is not
    appended twice when its line is among the file's last 64 KiB; an older repeat would be a
    duplicate line, which ``verify --checkpoints`` accepts (the same position, the same hash)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def __call__(self, checkpoint: SignedCheckpoint) -> None:
        line = (checkpoint.to_json() + "\n").encode("utf-8")
        with self._lock:
            readable = True
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            except PermissionError:
                # A witness file this process may append to but not read: no look for a
                # repeat (a duplicate line is harmless to verify --checkpoints).
                readable = False
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                if not (readable and self._holds(fd, line)):
                    os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)

    @staticmethod
    def _holds(fd: int, line: bytes) -> bool:
        """Whether ``line`` is one of the lines in the file's tail."""
        size = os.fstat(fd).st_size
        start = max(size - _TAIL_BYTES, 0)
        tail = os.pread(fd, size - start, start)
        return b"\n" + line in (b"\n" + tail if start == 0 else tail)

    def __repr__(self) -> str:
        return f"FileCheckpointSink({self.path.name!r})"


@dataclass(frozen=True, slots=True)
class CheckpointPolicy:
    """When the log writes a signed checkpoint, and where copies go.

    A checkpoint is written once ``every_records`` records were appended since the last one, or
    ``every_seconds`` after the first record not yet covered, whichever comes first; and when
    the store is closed. An idle log writes none: its last checkpoint still covers everything.

    >>> policy = CheckpointPolicy(CheckpointSigner.generate(), every_records=500)
    >>> policy.every_seconds
    300.0
    """

    signer: CheckpointSigner
    every_records: int = 1000
    every_seconds: float = 300.0
    sinks: Sequence[CheckpointSink] = ()
    #: Also queue each checkpoint in the outbox for the platform (``POST /v1/checkpoints``),
    #: which a client's sender (or ``credit-sdk feedback flush``) delivers.
    to_platform: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.signer, CheckpointSigner):
            raise ConfigurationError("CheckpointPolicy(signer=...) needs a CheckpointSigner")
        n = self.every_records
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ConfigurationError("CheckpointPolicy(every_records=...) must be a positive int")
        if not 0 < self.every_seconds <= 86_400:
            raise ConfigurationError(
                "CheckpointPolicy(every_seconds=...) must be positive and at most a day"
            )
        object.__setattr__(self, "sinks", tuple(self.sinks))

    @property
    def sinks_id(self) -> str:
        """Which sinks these are, for the store's mark of what they acknowledged: a file sink by
        its resolved path, any other sink by its class or function name (16 hex digits of a
        digest; a process with other sinks, like ``credit-sdk audit checkpoint --to``, keeps
        a mark of its own)."""
        names = sorted(_sink_name(sink) for sink in self.sinks)
        return hashlib.sha256("\n".join(names).encode("utf-8")).hexdigest()[:16]


def _sink_name(sink: CheckpointSink) -> str:
    if isinstance(sink, FileCheckpointSink):
        return f"file:{os.path.abspath(sink.path)}"
    kind = sink if callable(sink) and hasattr(sink, "__qualname__") else type(sink)
    return f"{getattr(kind, '__module__', '')}.{getattr(kind, '__qualname__', repr(kind))}"


def expectations(
    checkpoints: Iterable[SignedCheckpoint] = (),
    public_key: bytes | None = None,
    expect: Iterable[tuple[int, str]] = (),
) -> dict[int, tuple[str, str]]:
    """What ``verify`` checks the chain against: the signed ``checkpoints`` (each verified
    under ``public_key``) and plain ``(seq, hash)`` pairs someone wrote down (``expect``)."""
    out = witnessed(checkpoints, public_key)
    for seq, digest in expect:
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise ConfigurationError("an expected position must be a positive int")
        if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise ConfigurationError("an expected hash must be 64 lower-case hex digits")
        seen = out.get(seq)
        if seen is not None and seen[0] != digest:
            raise ConfigurationError(f"the expectations disagree about record {seq}")
        out[seq] = (digest, f"the hash expected for record {seq}")
    return out


_log = logging.getLogger("credit_sdk.audit")


class Checkpointer:
    """Runs a store's :class:`CheckpointPolicy`: counts appended records and, from a thread of
    its own, writes a checkpoint (``write()``: the signed record and, with ``to_platform``, its
    outbox item in one transaction) every ``every_records`` records or ``every_seconds`` after
    the first record not yet covered; then offers the sinks every checkpoint they have not
    acknowledged (``unwitnessed()``: those, and whether the store holds a mark for these sinks
    at all; ``witnessed(seq)`` records that all sinks took everything up to ``seq``). A failing
    checkpoint or sink is logged and retried later: it never fails a check."""

    def __init__(
        self,
        policy: CheckpointPolicy,
        write: Callable[[], SignedCheckpoint | None],
        *,
        unwitnessed: Callable[[], tuple[list[SignedCheckpoint], bool]] | None = None,
        witnessed: Callable[[int], None] | None = None,
    ) -> None:
        self.policy = policy
        self._write = write
        self._unwitnessed = unwitnessed
        self._witnessed = witnessed
        self._lock = threading.Lock()
        self._offer_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = False
        self._pending = 0
        self._since = 0.0
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        #: Why the last checkpoint could not be written (``None`` once one is): the error's
        #: class and the store's own message, which names positions, never record contents.
        self.last_error: str | None = None
        #: The checkpoint this process signed last: the next one checks that the log still
        #: holds that hash at that position (the database alone cannot show a consistent
        #: rewrite that also removed the checkpoint record).
        self.last_signed: SignedCheckpoint | None = None

    def noted(self, n: int) -> None:
        """``n`` records were appended (and are durable)."""
        with self._lock:
            if self._stop:
                return
            first = self._pending == 0
            self._pending += n
            if first:
                self._since = time.monotonic()
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._pid = os.getpid()
                self._wake = threading.Event()
                self._thread = threading.Thread(
                    target=self._loop, name="credit-sdk-audit-checkpoints", daemon=True
                )
                self._thread.start()
            wake = first or self._pending >= self.policy.every_records
        if wake:
            self._wake.set()

    def _due(self) -> tuple[bool, float | None]:
        with self._lock:
            if self._stop:
                return False, 0.0
            if not self._pending:
                return False, None
            left = self._since + self.policy.every_seconds - time.monotonic()
            return self._pending >= self.policy.every_records or left <= 0, max(left, 0.0)

    def _loop(self) -> None:
        wake = self._wake
        while True:
            due, timeout = self._due()
            if self._stop:
                return
            if due:
                self.run()
                continue
            wake.wait(timeout)
            wake.clear()

    def run(self, *, raise_errors: bool = False) -> SignedCheckpoint | None:
        """Write a checkpoint now (unless the newest record is one) and deliver it to the
        sinks; ``raise_errors`` raises what the write raised instead of logging it."""
        with self._lock:
            taken = self._pending
        try:
            cp = self._write()
        except Exception as err:
            self.last_error = f"{type(err).__name__}: {err}"
            with self._lock:
                self._since = time.monotonic()  # try again after every_seconds
            if isinstance(err, AuditIntegrityError):
                # Someone changed the log: no witness may vouch for it, and a person must look.
                _log.critical("query log: checkpoint refused: %s", err)
            elif not raise_errors:
                _log.warning("query log: writing a checkpoint failed: %s", err)
            if raise_errors:
                raise
            return None
        self.last_error = None
        if cp is not None:
            self.last_signed = cp
        with self._lock:
            self._pending = max(self._pending - taken, 0)
            if self._pending:
                self._since = time.monotonic()
        if cp is not None:
            self.offer(cp)
        return cp

    def offer(self, fresh: SignedCheckpoint | None = None) -> None:
        """Hand the sinks, oldest first, every checkpoint they have not acknowledged (or just
        ``fresh`` when the store keeps no mark), and move the mark past those every sink took.
        A sink that raises stops the round: it and the ones after it are offered again next
        time (a sink may so see a checkpoint twice)."""
        if not self.policy.sinks:
            return
        with self._offer_lock:
            due: list[SignedCheckpoint] = []
            marked = True
            known = self._unwitnessed is not None
            try:
                if self._unwitnessed is not None:
                    due, marked = self._unwitnessed()
            except Exception as err:
                # What the sinks lack is unknown: hand over the fresh one, move no mark.
                known = False
                _log.warning("query log: reading unwitnessed checkpoints failed: %s", err)
            if fresh is not None and all(cp.seq != fresh.seq for cp in due):
                due.append(fresh)
            taken: int | None = None
            for cp in due:
                if not self._hand_to_sinks(cp):
                    break
                taken = cp.seq
            if taken is None and not marked and due:
                # The first checkpoint offered to these sinks failed: mark the position just
                # before it, so that it and every later one are offered again.
                taken = due[0].seq - 1
            if taken is not None and known and self._witnessed is not None:
                try:
                    self._witnessed(taken)
                except Exception as err:  # offered again next time; sinks tolerate repeats
                    _log.warning("query log: recording witnessed checkpoints failed: %s", err)

    def _hand_to_sinks(self, cp: SignedCheckpoint) -> bool:
        for sink in self.policy.sinks:
            try:
                sink(cp)
            except Exception as err:  # a witness failing must never fail a check
                _log.warning("query log: checkpoint sink %r failed: %s", sink, type(err).__name__)
                return False
        return True

    def close(self) -> None:
        """Stop the thread; write a last checkpoint if records are not yet covered."""
        with self._lock:
            self._stop = True
            thread = self._thread if self._pid == os.getpid() else None
            pending = self._pending
        self._wake.set()
        if thread is not None:
            thread.join(10.0)
        if pending:
            with self._lock:
                self._stop = False  # run() needs the counts; the thread is gone
            try:
                self.run()
            finally:
                with self._lock:
                    self._stop = True
