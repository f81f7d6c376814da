"""The doctor's TLS file check on real certificates and keys made with cryptography."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from hookgram.tls_check import TLSProblem, check_tls_files
from tests.certificates import make_tls_files

NOW = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)


def _files(
    directory: Path,
    *names: str,
    days: int = 90,
    start: datetime.datetime = NOW - datetime.timedelta(days=1),
    san: bool = True,
) -> tuple[Path, Path]:
    return make_tls_files(directory, *names, days=days, start=start, san=san)


class TestCheckTLSFiles:
    def test_good_files(self, tmp_path: Path) -> None:
        """Matching files naming the host, valid for months, pass and say until when."""
        cert, key = _files(tmp_path, "bot.example.com", start=NOW - datetime.timedelta(days=1))
        detail = check_tls_files(cert, key, "bot.example.com", NOW)
        assert "names bot.example.com, valid until 2030-03-31; the key matches" in detail

    @pytest.mark.parametrize(
        ("names", "host", "covered"),
        [
            (("*.example.com",), "bot.example.com", True),
            (("*.example.com",), "a.bot.example.com", False),
            (("203.0.113.9",), "203.0.113.9", True),
            (("other.example.com",), "bot.example.com", False),
        ],
    )
    def test_names(self, tmp_path: Path, names: tuple[str, ...], host: str, covered: bool) -> None:
        """The host must be named by the subjectAltName: exact, one-label wildcard, or IP."""
        cert, key = _files(tmp_path, *names)
        if covered:
            check_tls_files(cert, key, host, NOW)
        else:
            with pytest.raises(TLSProblem, match=f"does not name {host}"):
                check_tls_files(cert, key, host, NOW)

    def test_common_name_without_san(self, tmp_path: Path) -> None:
        """A certificate without subjectAltName is matched by its CN."""
        cert, key = _files(tmp_path, "bot.example.com", san=False)
        check_tls_files(cert, key, "bot.example.com", NOW)

    def test_key_mismatch(self, tmp_path: Path) -> None:
        """A key that is not the certificate's is named as such."""
        cert, _ = _files(tmp_path, "bot.example.com")
        other = tmp_path / "other"
        other.mkdir()
        _, key = _files(other, "bot.example.com")
        with pytest.raises(TLSProblem, match="is not the key of"):
            check_tls_files(cert, key, "bot.example.com", NOW)

    @pytest.mark.parametrize(
        ("days", "start", "message"),
        [
            (30, NOW - datetime.timedelta(days=31), "expired on"),
            (20, NOW - datetime.timedelta(days=10), "in 10 days"),
            (90, NOW + datetime.timedelta(days=1), "not valid yet"),
        ],
    )
    def test_validity(
        self, tmp_path: Path, days: int, start: datetime.datetime, message: str
    ) -> None:
        """Expired, expiring within 14 days, or not yet valid: each says so."""
        cert, key = _files(tmp_path, "bot.example.com", days=days, start=start)
        with pytest.raises(TLSProblem, match=message):
            check_tls_files(cert, key, "bot.example.com", NOW)

    def test_unreadable_and_not_pem(self, tmp_path: Path) -> None:
        """A missing file or one that holds no PEM names the file."""
        cert, key = _files(tmp_path, "bot.example.com")
        with pytest.raises(TLSProblem, match="cannot be read"):
            check_tls_files(tmp_path / "missing.pem", key, None, NOW)
        garbage = tmp_path / "garbage.pem"
        garbage.write_text("not a certificate")
        with pytest.raises(TLSProblem, match="holds no PEM certificate"):
            check_tls_files(garbage, key, None, NOW)
        with pytest.raises(TLSProblem, match="holds no unencrypted PEM private key"):
            check_tls_files(cert, garbage, None, NOW)
