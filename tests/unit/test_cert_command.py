"""`hookgram cert`: the files it writes and the settings it prints."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509

from hookgram.certificates import certificate_names, inspect_certificate, is_self_signed
from hookgram.cli import cli


def run_cert(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["cert", *args])
    return result.exit_code, result.stdout, result.stderr


class TestCertCommand:
    @pytest.mark.parametrize(
        ("host", "url"),
        [
            ("bot.example.com", "https://bot.example.com:8443"),
            ("203.0.113.7", "https://203.0.113.7:8443"),
            ("[2001:db8::7]", "https://[2001:db8::7]:8443"),
        ],
    )
    def test_writes_a_pair_and_prints_settings(self, tmp_path: Path, host: str, url: str) -> None:
        """A key (owner-only) and a certificate for the host, and the settings to use them."""
        code, out, _ = run_cert("--host", host, "--out", str(tmp_path / "tls"), "--days", "30")
        assert code == 0
        settings = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        cert, key = Path(settings["HOOKGRAM_TLS_CERT"]), Path(settings["HOOKGRAM_TLS_KEY"])
        assert settings["HOOKGRAM_PUBLIC_URL"] == url
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        certificate = x509.load_pem_x509_certificate(cert.read_bytes())
        assert is_self_signed(certificate)
        assert certificate_names(certificate) == [host.strip("[]")]
        now = certificate.not_valid_before_utc
        report = inspect_certificate(cert, key, host.strip("[]"), now)
        assert report.problems == []
        assert report.warnings == []

    def test_never_overwrites_without_force(self, tmp_path: Path) -> None:
        """Existing files are kept unless --force is given."""
        assert run_cert("--host", "a.example.com", "--out", str(tmp_path))[0] == 0
        before = (tmp_path / "hookgram-key.pem").read_bytes()
        code, _, err = run_cert("--host", "a.example.com", "--out", str(tmp_path))
        assert code == 1
        assert "already exists: pass --force" in err
        assert (tmp_path / "hookgram-key.pem").read_bytes() == before
        assert run_cert("--host", "a.example.com", "--out", str(tmp_path), "--force")[0] == 0
        assert (tmp_path / "hookgram-key.pem").read_bytes() != before

    @pytest.mark.parametrize("host", ["bad host", "exa_mple.com", "-x.example.com", "1.2.3.400"])
    def test_bad_host(self, tmp_path: Path, host: str) -> None:
        """A host that is neither a domain nor an address is one line and exit 2."""
        code, _, err = run_cert("--host", host, "--out", str(tmp_path))
        assert code == 2
        assert "neither a domain name nor an IP address" in err
        assert list(tmp_path.iterdir()) == []
