"""Certificate checks and self-signed certificates as start-up, `cert` and `doctor` see them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from hookgram.certificates import (
    certificate_names,
    inspect_certificate,
    is_self_signed,
    self_signed_certificate,
)
from tests.certs import TinyCA, make_tls_files, other_key

NOW = datetime.now(UTC)


def self_signed(folder: Path, host: str, days: int = 365) -> tuple[Path, Path]:
    cert, key = self_signed_certificate(host, days=days, now=NOW)
    (folder / "cert.pem").write_bytes(cert)
    (folder / "key.pem").write_bytes(key)
    return folder / "cert.pem", folder / "key.pem"


class TestSelfSignedCertificate:
    @pytest.mark.parametrize(
        ("host", "names"),
        [("bot.example.com", ["bot.example.com"]), ("203.0.113.7", ["203.0.113.7"])],
    )
    def test_host_in_common_name_and_alt_names(self, host: str, names: list[str]) -> None:
        """The host is the common name and the subjectAltName (an IP entry for an address)."""
        cert_pem, _ = self_signed_certificate(host, days=30, now=NOW)
        certificate = x509.load_pem_x509_certificate(cert_pem)
        common = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        assert [a.value for a in common] == [host]
        assert certificate_names(certificate) == names
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        kind = x509.IPAddress if host[0].isdigit() else x509.DNSName
        assert len(san.get_values_for_type(kind)) == 1
        assert is_self_signed(certificate)
        assert certificate.not_valid_after_utc - NOW > timedelta(days=29)


class TestInspectCertificate:
    def test_good_self_signed_pair(self, tmp_path: Path) -> None:
        """A matching self-signed pair for the host has no problems and no warnings."""
        cert, key = self_signed(tmp_path, "bot.example.com")
        report = inspect_certificate(cert, key, "bot.example.com", NOW)
        assert report.problems == []
        assert report.warnings == []
        assert report.self_signed
        assert report.certificate_pem == cert.read_bytes()

    def test_ca_issued_is_not_self_signed(self, tmp_path: Path) -> None:
        """A certificate a CA issued is not self-signed, so it is never uploaded."""
        pair = TinyCA().issue(tmp_path, "bot.example.com")
        report = inspect_certificate(pair.cert, pair.key, "bot.example.com", NOW)
        assert report.problems == []
        assert not report.self_signed

    def test_same_names_but_other_signer_is_not_self_signed(self, tmp_path: Path) -> None:
        """Issuer equal to subject is not enough: the signature must verify with its own key."""
        ca = TinyCA(name="bot.example.com")
        pair = ca.issue(tmp_path, "bot.example.com")
        report = inspect_certificate(pair.cert, pair.key, None, NOW)
        assert not report.self_signed

    def test_leaf_without_chain_is_a_warning(self, tmp_path: Path) -> None:
        """A CA-issued certificate without intermediates draws a warning about the full chain."""
        pair = TinyCA().issue(tmp_path, "bot.example.com", with_chain=False)
        report = inspect_certificate(pair.cert, pair.key, "bot.example.com", NOW)
        assert any("fullchain.pem" in warning for warning in report.warnings)

    @pytest.mark.parametrize(
        ("names_for", "host", "covered"),
        [
            ("bot.example.com", "BOT.example.com", True),
            ("bot.example.com", "other.example.com", False),
            ("*.example.com", "bot.example.com", True),
            ("*.example.com", "a.bot.example.com", False),
            ("203.0.113.7", "203.0.113.7", True),
            ("203.0.113.7", "203.0.113.8", False),
            ("2001:db8::7", "[2001:db8::7]", True),
        ],
    )
    def test_names_must_cover_the_host(
        self, tmp_path: Path, names_for: str, host: str, covered: bool
    ) -> None:
        """Names that do not cover the public URL's host are a warning naming both."""
        cert, key = self_signed(tmp_path, names_for)
        report = inspect_certificate(cert, key, host, NOW)
        assert report.problems == []
        mismatch = [w for w in report.warnings if "not for" in w]
        assert (mismatch == []) is covered
        if not covered:
            assert names_for in mismatch[0]
            assert host in mismatch[0]

    @pytest.mark.parametrize(
        ("days", "expected"), [(10, "expires on"), (15, None), (-1, "expired on")]
    )
    def test_expiry(self, tmp_path: Path, days: int, expected: str | None) -> None:
        """Expiry within 14 days, or past, is a warning; later is not."""
        cert, key = self_signed(tmp_path, "bot.example.com", days=30)
        later = NOW + timedelta(days=30 - days)
        warnings = inspect_certificate(cert, key, "bot.example.com", later).warnings
        if expected is None:
            assert warnings == []
        else:
            [warning] = warnings
            assert expected in warning
            assert str(cert) in warning

    def test_mismatched_key_is_a_problem_naming_both_files(self, tmp_path: Path) -> None:
        """A key that is not the certificate's is a problem naming both files."""
        cert, _ = self_signed(tmp_path, "bot.example.com")
        key = other_key(tmp_path)
        [problem] = inspect_certificate(cert, key, None, NOW).problems
        assert "do not match" in problem
        assert str(cert) in problem
        assert str(key) in problem

    def test_unreadable_files(self, tmp_path: Path) -> None:
        """Missing files and files that are not PEM are problems naming the file and setting."""
        missing = tmp_path / "missing.pem"
        [problem] = inspect_certificate(missing, None, None, NOW).problems
        assert str(missing) in problem
        assert "HOOKGRAM_TLS_CERT" in problem
        junk = tmp_path / "junk.pem"
        junk.write_text("hello")
        cert, _ = self_signed(tmp_path, "bot.example.com")
        [problem] = inspect_certificate(cert, junk, None, NOW).problems
        assert str(junk) in problem
        assert "HOOKGRAM_TLS_KEY" in problem
        [problem] = inspect_certificate(junk, None, None, NOW).problems
        assert "not a PEM certificate" in problem

    def test_common_name_without_alt_names(self, tmp_path: Path) -> None:
        """A certificate without subjectAltName is matched by its common name."""
        cert, key = make_tls_files(tmp_path, "bot.example.com", san=False)
        report = inspect_certificate(cert, key, "bot.example.com", NOW)
        assert report.names == ["bot.example.com"]
        assert report.warnings == []

    def test_not_valid_yet(self, tmp_path: Path) -> None:
        """A certificate whose validity starts later is a warning (check the clock)."""
        cert, key = make_tls_files(tmp_path, "bot.example.com", start=NOW + timedelta(days=1))
        [warning] = inspect_certificate(cert, key, "bot.example.com", NOW).warnings
        assert "not valid yet" in warning
