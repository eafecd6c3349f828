"""HTTPS served directly: `charter tls self-signed` and `charter serve --ssl-*`."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from cryptography import x509

from charter.cli import main
from charter.tls import self_signed

CHARTER = Path(sys.executable).parent / "charter"


def test_self_signed_names_every_host_and_hides_the_key(tmp_path: Path) -> None:
    written = self_signed(["127.0.0.1", "charter.test"], tmp_path / "tls")
    cert = x509.load_pem_x509_certificate(written.cert.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert names.get_values_for_type(x509.DNSName) == ["charter.test"]
    assert cert.issuer == cert.subject
    assert stat.S_IMODE(written.key.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in written.key.read_bytes()


def test_the_command_prints_how_node_trusts_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["tls", "self-signed", "--host", "127.0.0.1", "--out", str(tmp_path / "c")]
    )
    assert result.exit_code == 0, result.output
    assert f"NODE_EXTRA_CA_CERTS={(tmp_path / 'c' / 'cert.pem').resolve()}" in result.output
    assert "--ssl-certfile" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["--ssl-certfile", "cert.pem"],
        ["--ssl-keyfile", "key.pem"],
        ["--ssl-certfile", "/no/such/cert.pem", "--ssl-keyfile", "/no/such/key.pem"],
    ],
)
def test_serve_refuses_half_a_tls_setup(tmp_path: Path, args: list[str]) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    result = CliRunner().invoke(main, ["--database", url, "serve", *args])
    assert result.exit_code == 2, result.output
    assert "ssl" in result.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_serve_over_https(tmp_path: Path) -> None:
    written = self_signed(["127.0.0.1"], tmp_path / "tls")
    port = _free_port()
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [
            str(CHARTER),
            "--database",
            f"sqlite:///{tmp_path / 'c.db'}",
            "serve",
            "--port",
            str(port),
            "--ssl-certfile",
            str(written.cert),
            "--ssl-keyfile",
            str(written.key),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                trust = ssl.create_default_context(cafile=str(written.cert))
                answer = httpx.get(f"https://127.0.0.1:{port}/health", verify=trust)
                break
            except httpx.ConnectError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        assert answer.status_code == 200
        with pytest.raises(httpx.ConnectError):  # not trusted without the certificate
            httpx.get(f"https://127.0.0.1:{port}/health")
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()
