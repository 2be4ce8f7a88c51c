"""Transport security: no clear-text platform off loopback, a private CA that really verifies.

The TLS test runs a real TLS server on loopback whose certificate is issued by a CA made for the
test (cryptography, the ``audit`` extra the suite installs): the client trusts it only when given
that CA (``verify=`` a PEM path or an ``ssl.SSLContext``), and fails closed without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import logging
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509  # the audit extra, installed with the suite

from credit_sdk import (
    ConfigurationError,
    CreditClient,
    MemoryQueryLog,
    PlatformUnavailable,
)
from credit_sdk._client import _env_kwargs
from tests.client.conftest import KEY


def client(url: str, **extra: object) -> CreditClient:
    return CreditClient(
        url, token="t0ken-security", audit=MemoryQueryLog(), pseudonym_key=KEY, **extra
    )  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url", ["http://platform.example.gov.cn", "http://10.0.0.8:8600", "http://[fd00::1]"]
)
def test_http_off_loopback_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match="allow_insecure_http"):
        client(url)


def test_http_off_loopback_is_allowed_only_explicitly_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="credit_sdk.transport"):
        c = client("http://platform.example.gov.cn", allow_insecure_http=True)
    c.close()
    assert any("insecure" in r.getMessage() for r in caplog.records)
    assert all("t0ken-security" not in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8600", "http://localhost:8600", "http://[::1]:8600", "http://127.8.9.10"],
)
def test_http_to_loopback_needs_no_opt_in(url: str) -> None:
    client(url).close()


def test_the_environment_opts_in_and_names_a_ca_bundle(tmp_path: Path) -> None:
    env = {
        "CREDIT_SDK_BASE_URL": "http://platform.example.gov.cn",
        "CREDIT_SDK_TOKEN": "t",
        "CREDIT_SDK_AUDIT_DB": str(tmp_path / "a.db"),
        "CREDIT_SDK_PSEUDONYM_KEY": "00" * 16,
        "CREDIT_SDK_ALLOW_INSECURE_HTTP": "true",
        "CREDIT_SDK_CA_BUNDLE": str(tmp_path / "ca.pem"),
    }
    kwargs = _env_kwargs(env)
    assert kwargs["allow_insecure_http"] is True
    assert kwargs["verify"] == str(tmp_path / "ca.pem")


def test_a_missing_ca_bundle_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="CA bundle"):
        client("https://platform.example.gov.cn", verify=str(tmp_path / "missing.pem"))


# --- a real TLS server behind a private CA ------------------------------------------------------


def _issue(tmp_path: Path) -> tuple[Path, Path, Path]:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "Test Platform CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_path, cert_path, key_path


@pytest.fixture
def tls_platform(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A loopback HTTPS server answering ``/v1/health``, certificate from a private CA."""
    ca_path, cert_path, key_path = _issue(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    loop = asyncio.new_event_loop()
    writers: set[asyncio.StreamWriter] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.add(writer)
        try:
            await reader.readuntil(b"\r\n\r\n")
            body = b'{"status": "ok"}'
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\nConnection: close\r\n\r\n"
                + body
            )
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 2)
            writers.discard(writer)

    async def stop() -> None:
        server.close()
        # A TLS connection closes with a shutdown exchange the client may never answer (it
        # refused the certificate): abort what is left so no transport outlives the loop.
        for writer in list(writers):
            writer.transport.abort()
        for _ in range(3):
            await asyncio.sleep(0)

    server = loop.run_until_complete(asyncio.start_server(handle, "127.0.0.1", 0, ssl=context))
    port = server.sockets[0].getsockname()[1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{port}", ca_path
    finally:
        asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def test_a_private_ca_bundle_verifies_the_platform(tls_platform: tuple[str, Path]) -> None:
    url, ca_path = tls_platform
    with client(url, verify=str(ca_path), list_sync_interval=None) as c:
        assert c.health()["status"] == "ok"
    context = ssl.create_default_context(cafile=str(ca_path))
    with client(url, verify=context, list_sync_interval=None) as c:
        assert c.health()["status"] == "ok"


def test_without_the_private_ca_the_platform_is_not_trusted(tls_platform: tuple[str, Path]) -> None:
    url, _ = tls_platform
    with client(url, list_sync_interval=None) as c, pytest.raises(PlatformUnavailable):
        c.health()
