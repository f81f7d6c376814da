"""Telegram's ``last_error_message`` explained: what it means for a hookgram deployment, and
the fix. Pure; used by the webhook diagnosis."""

from __future__ import annotations

import re

# Telegram words a non-2xx answer as "Wrong response from the webhook: 401 Unauthorized".
_WRONG_RESPONSE = re.compile(r"wrong response from the webhook:\s*(\d{3})", re.IGNORECASE)

# What hookgram's own checks answer with each status, or who else answers it.
_STATUS: dict[int, tuple[str, str]] = {
    401: (
        "hookgram answered 401: the X-Telegram-Bot-Api-Secret-Token Telegram sends is not the "
        "secret hookgram expects. Telegram keeps the secret of the last setWebhook and never "
        "reports it back, so it goes stale when HOOKGRAM_SECRET_TOKEN (or BOT_TOKEN, from which "
        "the default secret is derived) changed while start-up saw nothing else to re-set, or "
        "when another deployment with another secret set the webhook.",
        "`hookgram webhook set` (or start once with --force-set-webhook) so Telegram gets the "
        "current secret",
    ),
    403: (
        "hookgram answered 403: the sender's address is not on the IP allow-list. Behind a "
        "reverse proxy hookgram sees the proxy's address unless the proxy is listed as trusted.",
        "list the proxy in HOOKGRAM_TRUSTED_PROXIES, or widen HOOKGRAM_ALLOWED_IPS "
        "(Telegram sends from 149.154.160.0/20 and 91.108.4.0/22)",
    ),
    404: (
        "Nothing answers at the registered path: it is not HOOKGRAM_WEBHOOK_PATH, or a reverse "
        "proxy does not forward it (or rewrites it) to hookgram.",
        "make the proxy route and HOOKGRAM_WEBHOOK_PATH match the registered URL, then "
        "`hookgram webhook set`",
    ),
    405: (
        "The server at the URL does not take POST there: the URL reaches something other than "
        "hookgram's webhook route (a static site, another app).",
        "point the URL (or the proxy route) at hookgram, then `hookgram webhook set`",
    ),
    413: (
        "The update was larger than the server accepts: HOOKGRAM_MAX_BODY_BYTES, or the "
        "reverse proxy's own body limit (nginx client_max_body_size).",
        "raise the limit that answered 413",
    ),
    415: (
        "hookgram answered 415: the request did not arrive as application/json, so something "
        "between Telegram and hookgram rewrote it.",
        "make the reverse proxy pass the body and Content-Type through unchanged",
    ),
    500: (
        "hookgram never answers 500 itself: a reverse proxy, or another app at that URL, failed.",
        "read the proxy's error log; check the URL reaches hookgram",
    ),
    502: (
        "The reverse proxy could not reach hookgram: it is not running, or the proxy points at "
        "the wrong host or port (HOOKGRAM_HOST, HOOKGRAM_PORT).",
        "start hookgram, or fix the proxy's upstream address",
    ),
    503: (
        "hookgram answered 503: the inbox could not commit the update (database down, full or "
        "locked), so hookgram refused it rather than risk losing it; Telegram retries.",
        "`hookgram doctor` checks the database; the server log says what failed",
    ),
    504: (
        "The reverse proxy gave up waiting for hookgram, which normally answers after one "
        "insert: the database is slow or locked, or hookgram is overloaded.",
        "`hookgram doctor` checks the database; read the server log at that time",
    ),
}

_TEXT: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (
        re.compile(r"read timeout expired", re.IGNORECASE),
        "Telegram connected and sent the update but got no answer within 60 seconds. hookgram "
        "answers after one insert, so it was stuck: the database slow or locked (an SQLite file "
        "held by another process), the server overloaded, or a proxy holding the request.",
        "`hookgram doctor` checks the database; read the server log for inbox errors",
    ),
    (
        re.compile(r"connection refused", re.IGNORECASE),
        "Nothing listens at the URL's host and port: hookgram or its reverse proxy is down, "
        "listens on another port, or the port is not forwarded to it.",
        "start hookgram (or the proxy) and make the public port (443, 80, 88 or 8443) reach it",
    ),
    (
        re.compile(r"timed out|timeout", re.IGNORECASE),
        "Telegram's connection attempts got no answer at all: a firewall or security group "
        "drops them, or DNS (or HOOKGRAM_WEBHOOK_IP_ADDRESS) points at the wrong machine.",
        "open the port to 149.154.160.0/20 and 91.108.4.0/22, and check the host's DNS record",
    ),
    (
        re.compile(r"resolve host|name or service not known|dns", re.IGNORECASE),
        "Telegram could not resolve the URL's host name.",
        "fix the DNS record, or set HOOKGRAM_WEBHOOK_IP_ADDRESS to the server's IPv4 address",
    ),
    (
        re.compile(r"connection reset|connection closed|eof", re.IGNORECASE),
        "The server closed the connection: often TLS older than 1.2, or a proxy dropping it.",
        "serve TLS 1.2 or newer and check the proxy's log",
    ),
)

_UPLOADED_CERTIFICATE = (
    "Telegram could not verify the server against the certificate uploaded with setWebhook. "
    "An upload is pinned: a CA-issued certificate (Let's Encrypt) breaks at its next renewal, "
    "and a self-signed one must be exactly the certificate the server serves.",
    "`hookgram webhook set` uploads the certificate only when it is self-signed; "
    "`hookgram doctor` checks the files",
)
_CERTIFICATE = (
    "Telegram could not verify the server's certificate: expired, its names do not cover the "
    "host (CN or subjectAltName), the chain is incomplete (serve fullchain.pem, not cert.pem), "
    "or it is self-signed and was not uploaded.",
    "`hookgram doctor` checks the certificate files; serve the full chain",
)
_UNKNOWN = (
    "Telegram could not deliver an update to the URL and will retry.",
    "read the server's (and the reverse proxy's) log at that time",
)


def explain_delivery_error(message: str, has_custom_certificate: bool) -> tuple[str, str]:
    """(what it means, the likely fix) for a ``last_error_message``."""
    wrong = _WRONG_RESPONSE.search(message)
    if wrong is not None:
        return _explain_status(int(wrong.group(1)))
    if re.search(r"ssl|certificate|tls", message, re.IGNORECASE):
        return _UPLOADED_CERTIFICATE if has_custom_certificate else _CERTIFICATE
    for pattern, explanation, fix in _TEXT:
        if pattern.search(message):
            return explanation, fix
    return _UNKNOWN


def _explain_status(status: int) -> tuple[str, str]:
    if status in _STATUS:
        return _STATUS[status]
    if 300 <= status < 400:
        return (
            f"The server answered with a redirect ({status}); Telegram does not follow redirects.",
            "register the final URL exactly (scheme, host, path, trailing slash), then "
            "`hookgram webhook set`",
        )
    if status >= 500:
        return (
            f"The server answered {status}: it, or a reverse proxy in front of it, failed.",
            "read the server's and the proxy's logs at that time",
        )
    return (
        f"The server answered {status}, which hookgram's own checks never send for a valid "
        "update: the URL may reach another app.",
        "check the URL reaches hookgram, then `hookgram webhook set`",
    )
