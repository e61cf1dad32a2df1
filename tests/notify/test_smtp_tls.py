"""SMTP over TLS against a real aiosmtpd server with a certificate the test makes: smtps:// and
STARTTLS verify it against the system's CAs (an impostor gets no password and no message), and
`?cafile=` trusts a private CA. A config file others may write is refused like ssh refuses it."""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from corpus import cli, dumps, error_line, join, record
from services import free_port

from mlmon.errors import ExitCode


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by itself (the `cryptography` package), and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@dataclass
class TlsMailbox:
    port: int
    cafile: Path
    messages: list[Any] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)


def _server(tmp_path: Path, *, implicit: bool) -> Iterator[TlsMailbox]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message
    from aiosmtpd.smtp import AuthResult

    cert, key = _self_signed(tmp_path)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    box = TlsMailbox(free_port(), cert)

    class Keep(Message):  # type: ignore[misc]
        def handle_message(self, message: Any) -> None:
            box.messages.append(message)

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        box.logins.append((data.login.decode(), data.password.decode()))
        return AuthResult(success=True)

    tls = {"ssl_context": ctx} if implicit else {"tls_context": ctx, "require_starttls": True}
    controller = Controller(
        # implicit TLS is not STARTTLS to aiosmtpd: it would hide AUTH behind auth_require_tls
        Keep(),
        hostname="127.0.0.1",
        port=box.port,
        authenticator=authenticator,
        auth_require_tls=not implicit,
        server_hostname="127.0.0.1", **tls,
    )
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture(params=["smtps", "starttls"])
def tls_mailbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, TlsMailbox]]:
    implicit = request.param == "smtps"
    for box in _server(tmp_path, implicit=implicit):
        scheme = "smtps" if implicit else "smtp"
        extra = "" if implicit else "&starttls=1"
        yield f"{scheme}://alice@127.0.0.1:{box.port}?to=oncall@example.com{extra}", box


def _alerting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLMON_SMTP_PASSWORD", "hunter2")
    (tmp_path / "log.jsonl").write_bytes(join(dumps(record(i, latency_ms=900.0)) for i in range(300)))
    (tmp_path / "mlmon.toml").write_text(
        'logs = ["log.jsonl"]\n[[rules]]\nmetric = "latency_ms.p50"\nwarning = 100\n'
    )


def test_an_untrusted_certificate_gets_no_password_and_no_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tls_mailbox: tuple[str, TlsMailbox]
) -> None:
    url, box = tls_mailbox
    _alerting(tmp_path, monkeypatch)
    r = cli(["check", "--notify", url, "-f", "json"])
    assert r.exit_code == 1, r.stderr  # the alert decides
    (note,) = json.loads(r.stdout)["notifications"]
    assert note["ok"] is False and note["attempts"] == 1
    assert "the server's certificate is not trusted" in note["error"] and "?cafile=" in note["error"]
    assert box.logins == [] and box.messages == []
    assert "hunter2" not in r.stdout + r.stderr


def test_a_private_ca_file_is_trusted_when_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tls_mailbox: tuple[str, TlsMailbox]
) -> None:
    url, box = tls_mailbox
    _alerting(tmp_path, monkeypatch)
    r = cli(["check", "--notify", f"{url}&cafile={box.cafile}", "-f", "json"])
    assert r.exit_code == 1, r.stderr
    (note,) = json.loads(r.stdout)["notifications"]
    assert note["ok"] is True, note["error"]
    assert box.logins == [("alice", "hunter2")] and len(box.messages) == 1


# --- who may write the config file --------------------------------------------------------------


def _config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLMON_TRUST_CONFIG", raising=False)
    (tmp_path / "log.jsonl").write_bytes(join(dumps(record(i)) for i in range(300)))
    path = tmp_path / "mlmon.toml"
    path.write_text('logs = ["log.jsonl"]\n[[rules]]\nmetric = "latency_ms.p99"\nwarning = 100000\n')
    path.chmod(0o644)
    return path


@pytest.mark.parametrize(("mode", "who"), [(0o664, "its group"), (0o646, "others"), (0o666, "others")])
def test_a_config_file_others_may_write_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: int, who: str
) -> None:
    path = _config(tmp_path, monkeypatch)
    assert cli(["check"]).exit_code == 0
    path.chmod(mode)
    r = cli(["check", "-f", "json"])
    assert r.exit_code == ExitCode.CONFIG
    assert error_line(r) == (
        f"{path}: {who} may write it (mode {mode:o}); refusing to use it "
        f"(chmod go-w {path}, or set MLMON_TRUST_CONFIG=1 to trust it)"
    )
    assert json.loads(r.stdout)["exit_code"] == 78
    monkeypatch.setenv("MLMON_TRUST_CONFIG", "1")
    assert cli(["check"]).exit_code == 0


def test_a_config_file_owned_by_another_user_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root (the tests run as root in CI)")
    path = _config(tmp_path, monkeypatch)
    os.chown(path, 65534, 65534)  # nobody
    r = cli(["check"])
    assert r.exit_code == ExitCode.CONFIG
    assert error_line(r).startswith(
        f"{path}: owned by another user (uid 65534), not by the one running mlmon"
    )
    r = cli(["config", "validate", str(path)])
    assert r.exit_code == ExitCode.CONFIG
    monkeypatch.setenv("MLMON_TRUST_CONFIG", "1")
    assert cli(["check"]).exit_code == 0


def test_a_pyproject_with_tool_mlmon_owned_by_another_user_is_refused_not_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A [tool.mlmon] table found from here up that cannot be trusted or read is exit 78 naming it:
    skipping it would quietly use a config further up, or none."""
    if os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root (the tests run as root in CI)")
    _config(tmp_path, monkeypatch)  # an mlmon.toml above: what a skipped pyproject would fall back to
    project = tmp_path / "project"
    project.mkdir()
    py = project / "pyproject.toml"
    py.write_text('[project]\nname = "svc"\n\n[tool.mlmon]\nlast = "60m"\n')
    os.chown(py, 65534, 65534)
    monkeypatch.chdir(project)
    r = cli(["check"])
    assert r.exit_code == ExitCode.CONFIG
    assert error_line(r).startswith(f"{py}: owned by another user (uid 65534)")
    # a pyproject that is not mlmon's stays none of its business, whoever owns it
    py.write_text('[project]\nname = "svc"\n')
    os.chown(py, 65534, 65534)
    assert cli(["check"]).exit_code != ExitCode.CONFIG
    # nor is a broken [tool.mlmon] skipped
    py.write_text('[tool.mlmon]\nlast = \n')
    os.chown(py, 0, 0)
    r = cli(["check"])
    assert r.exit_code == ExitCode.CONFIG and str(py) in error_line(r)


def test_a_config_in_a_folder_others_may_write_is_refused_unless_sticky(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _config(tmp_path, monkeypatch)
    tmp_path.chmod(0o777)  # anyone may rename the config away and put their own in its place
    r = cli(["check", "-f", "json"])
    assert r.exit_code == ExitCode.CONFIG
    assert error_line(r) == (
        f"{path}: its folder {tmp_path} may be written by others (mode 777), who could replace "
        f"the file; refusing to use it (chmod o-w {tmp_path}, or set MLMON_TRUST_CONFIG=1 to trust it)"
    )
    assert json.loads(r.stdout)["exit_code"] == 78
    tmp_path.chmod(0o1777)  # sticky, as /tmp: only the file's owner may rename or delete it
    assert cli(["check"]).exit_code == 0
    tmp_path.chmod(0o775)  # group-writable folders (shared project folders) are common and kept
    assert cli(["check"]).exit_code == 0
    tmp_path.chmod(0o777)
    monkeypatch.setenv("MLMON_TRUST_CONFIG", "1")
    assert cli(["check"]).exit_code == 0
    tmp_path.chmod(0o755)
