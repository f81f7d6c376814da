"""The doctor's check of the TLS files: readable, key matches, names cover the host, not expiring.

One function, :func:`check_tls_files`, so a fuller certificate module can take its place.
"""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from cryptography.x509.oid import NameOID

# Renewal should happen well before this; Let's Encrypt renews at 30 days left.
EXPIRY_WARNING = datetime.timedelta(days=14)


class TLSProblem(Exception):
    """The TLS files are unusable: ``what`` is wrong, ``fix`` says what to do."""

    def __init__(self, what: str, fix: str) -> None:
        super().__init__(what)
        self.what = what
        self.fix = fix


def check_tls_files(
    cert_path: Path, key_path: Path, host: str | None, now: datetime.datetime
) -> str:
    """What the files serve, when usable; TLSProblem (with the fix) when not."""
    certificate = _certificate(cert_path)
    if _spki(_private_key(key_path).public_key()) != _spki(certificate.public_key()):
        raise TLSProblem(
            f"{key_path} is not the key of {cert_path}", "use the key the certificate was made for"
        )
    if host is not None and not covers(certificate, host):
        raise TLSProblem(
            f"{cert_path} does not name {host} (Telegram checks the CN or subjectAltName)",
            "issue a certificate for the public URL's host",
        )
    until = _check_validity(certificate, now)
    named = f"names {host}, " if host is not None else ""
    return f"{cert_path} {named}valid until {until:%Y-%m-%d}; the key matches"


def _certificate(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificates(path.read_bytes())[0]
    except OSError as exc:
        raise TLSProblem(f"{path} cannot be read ({exc.strerror})", "fix the path") from None
    except ValueError:
        raise TLSProblem(f"{path} holds no PEM certificate", "point at a PEM file") from None


def _private_key(path: Path) -> PrivateKeyTypes:
    try:
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise TLSProblem(f"{path} cannot be read ({exc.strerror})", "fix the path") from None
    except (ValueError, TypeError):
        raise TLSProblem(
            f"{path} holds no unencrypted PEM private key",
            "point HOOKGRAM_TLS_KEY at the key, without a passphrase",
        ) from None


def _spki(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def covers(certificate: x509.Certificate, host: str) -> bool:
    """Whether the certificate's subjectAltName (else CN) names ``host``."""
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        address = None
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        names = [
            str(a.value) for a in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        ]
        return any(_name_matches(name, host) for name in names)
    if address is not None:
        return address in san.get_values_for_type(x509.IPAddress)
    return any(_name_matches(name, host) for name in san.get_values_for_type(x509.DNSName))


def _name_matches(pattern: str, host: str) -> bool:
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == host


def _check_validity(certificate: x509.Certificate, now: datetime.datetime) -> datetime.datetime:
    until = certificate.not_valid_after_utc
    if now < certificate.not_valid_before_utc:
        raise TLSProblem("the certificate is not valid yet", "check this machine's clock")
    if now >= until:
        raise TLSProblem(f"the certificate expired on {until:%Y-%m-%d}", "renew it")
    if until - now < EXPIRY_WARNING:
        days = (until - now).days
        raise TLSProblem(f"the certificate expires on {until:%Y-%m-%d}, in {days} days", "renew it")
    return until
