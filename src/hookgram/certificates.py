"""X.509 checks and self-signed certificates: start-up, ``hookgram cert`` and ``doctor`` use them.

Everything here is a pure function of file contents, a host and ``now``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    PublicKeyTypes,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

EXPIRY_WARNING = timedelta(days=14)


@dataclass
class CertificateReport:
    """What a certificate and key pair means for Telegram: problems stop start-up."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    self_signed: bool = False
    names: list[str] = field(default_factory=list)
    not_after: datetime | None = None
    certificate_pem: bytes | None = None  # the server certificate alone, as setWebhook takes it


def inspect_certificate(
    cert_path: Path, key_path: Path | None, host: str | None, now: datetime
) -> CertificateReport:
    """Check that the files can be read and belong together, and what Telegram will think."""
    report = CertificateReport()
    chain = _read_certificates(cert_path, report)
    key = _read_key(key_path, report) if key_path is not None else None
    if not chain:
        return report
    leaf = chain[0]
    report.certificate_pem = leaf.public_bytes(serialization.Encoding.PEM)
    report.self_signed = is_self_signed(leaf)
    report.names = certificate_names(leaf)
    report.not_after = leaf.not_valid_after_utc
    if key is not None and not _same_key(leaf, key):
        report.problems.append(
            f"certificate {cert_path} and key {key_path} do not match: HOOKGRAM_TLS_KEY must be "
            "the private key the certificate was made for"
        )
    if host is not None and not covers(leaf, host):
        shown = ", ".join(report.names) or "no names"
        report.warnings.append(
            f"certificate {cert_path} is for {shown}, not for {host}, the host of "
            "HOOKGRAM_PUBLIC_URL: Telegram will refuse the connection"
        )
    report.warnings.extend(_validity_warnings(leaf, cert_path, now))
    if not report.self_signed and len(chain) == 1:
        report.warnings.append(
            f"certificate {cert_path} holds no intermediate certificates: if an intermediate CA "
            "issued it (Let's Encrypt's do), use the full chain (fullchain.pem)"
        )
    return report


def is_self_signed(certificate: x509.Certificate) -> bool:
    """Issuer is subject and the signature verifies with the certificate's own key."""
    if certificate.issuer != certificate.subject:
        return False
    try:
        certificate.verify_directly_issued_by(certificate)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def certificate_names(certificate: x509.Certificate) -> list[str]:
    """The DNS names and IP addresses of subjectAltName, else the common name."""
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        common = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return [str(attribute.value) for attribute in common]
    names = [str(name) for name in san.get_values_for_type(x509.DNSName)]
    return names + [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]


def covers(certificate: x509.Certificate, host: str) -> bool:
    """True when a TLS client connecting to ``host`` accepts the certificate's names."""
    address = _ip(host)
    names = certificate_names(certificate)
    if address is not None:
        return any(_ip(name) == address for name in names)
    host = host.lower().rstrip(".")
    return any(_dns_match(name.lower().rstrip("."), host) for name in names)


def self_signed_certificate(host: str, *, days: int, now: datetime) -> tuple[bytes, bytes]:
    """A new RSA 2048 key and a certificate for ``host`` (CN and subjectAltName), both PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    address = _ip(host)
    alt: x509.GeneralName = x509.IPAddress(address) if address else x509.DNSName(host)
    certificate = (
        _builder(name, name, key, now, days)
        .add_extension(x509.SubjectAlternativeName([alt]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    key: CertificateIssuerPrivateKeyTypes,
    now: datetime,
    days: int,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )


def _read_certificates(path: Path, report: CertificateReport) -> list[x509.Certificate]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        report.problems.append(
            f"certificate {path} cannot be read ({exc.strerror}): fix HOOKGRAM_TLS_CERT"
        )
        return []
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError:
        report.problems.append(
            f"certificate {path} is not a PEM certificate: HOOKGRAM_TLS_CERT must name a file "
            "starting with -----BEGIN CERTIFICATE-----"
        )
        return []


def _read_key(path: Path, report: CertificateReport) -> PublicKeyTypes | None:
    try:
        data = path.read_bytes()
    except OSError as exc:
        report.problems.append(f"key {path} cannot be read ({exc.strerror}): fix HOOKGRAM_TLS_KEY")
        return None
    try:
        return serialization.load_pem_private_key(data, password=None).public_key()
    except TypeError:
        report.problems.append(
            f"key {path} is encrypted: HOOKGRAM_TLS_KEY needs an unencrypted PEM private key"
        )
    except (ValueError, UnsupportedAlgorithm):
        report.problems.append(
            f"key {path} is not a PEM private key: HOOKGRAM_TLS_KEY must name a file "
            "starting with -----BEGIN PRIVATE KEY----- (or RSA/EC PRIVATE KEY)"
        )
    return None


def _same_key(certificate: x509.Certificate, public_key: PublicKeyTypes) -> bool:
    def der(key: PublicKeyTypes) -> bytes:
        return key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    return der(certificate.public_key()) == der(public_key)


def _validity_warnings(certificate: x509.Certificate, path: Path, now: datetime) -> list[str]:
    not_after = certificate.not_valid_after_utc
    when = not_after.strftime("%Y-%m-%d %H:%M UTC")
    if now < certificate.not_valid_before_utc:
        return [f"certificate {path} is not valid yet (from {certificate.not_valid_before_utc})"]
    if now >= not_after:
        return [f"certificate {path} expired on {when}: Telegram will refuse it; renew it"]
    if not_after - now <= EXPIRY_WARNING:
        days = (not_after - now).days
        return [f"certificate {path} expires on {when} (in {days} days): renew it"]
    return []


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None


def _dns_match(pattern: str, host: str) -> bool:
    if pattern == host:
        return True
    # A wildcard stands for exactly one left-most label (RFC 6125, section 6.4.3).
    if pattern.startswith("*.") and "." in host:
        return host.split(".", 1)[1] == pattern[2:]
    return False
