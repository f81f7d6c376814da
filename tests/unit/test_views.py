"""How an inbox row is shown to people: summaries, redacted headers, bodies."""

from __future__ import annotations

from hookgram.inbox.models import Event, Status
from hookgram.inbox.views import event_record, pretty_body, redacted_headers, summary
from tests.factories import body, message_update


def _event(source: str, raw: bytes, headers: dict[str, str] | None = None) -> Event:
    return Event(
        id=1,
        source=source,
        dedup_key="k",
        ordering_key=None,
        received_at=0.0,
        body=raw,
        headers=headers or {},
        status=Status.PENDING,
        attempts=0,
        next_attempt_at=0.0,
        lease_owner=None,
        lease_expires_at=None,
        finished_at=None,
        last_error=None,
    )


class TestSummary:
    def test_telegram_message(self) -> None:
        """A Telegram update shows its kind, chat, sender and the start of its text."""
        line = summary(_event("telegram", body(message_update("hello there", chat_id=-5))))
        assert line.startswith("message · chat Group · from")
        assert "'hello there'" in line

    def test_third_party_event(self) -> None:
        """Other sources show the event type and id."""
        raw = b'{"type": "invoice.paid", "data": {"object": {"id": "in_1"}}, "id": "evt_9"}'
        assert summary(_event("shop", raw)) == "invoice.paid evt_9"

    def test_long_text_is_cut(self) -> None:
        """A summary stays one short line."""
        line = summary(_event("telegram", body(message_update("x" * 500))))
        assert len(line) <= 80
        assert line.endswith("…")


class TestBodies:
    def test_form_body(self) -> None:
        """A form-encoded body is shown as its fields."""
        assert event_record(_event("p", b"a=1&b=two"))["body"] == {"a": "1", "b": "two"}

    def test_pretty_json(self) -> None:
        """JSON is indented for reading."""
        assert pretty_body(_event("p", b'{"a":{"b":1}}')) == '{\n  "a": {\n    "b": 1\n  }\n}'


class TestHeaders:
    def test_credentials_are_redacted(self) -> None:
        """Authorization, the Telegram secret and a source's own secret header are hidden."""
        shown = redacted_headers(
            {
                "Authorization": "Bearer s3cret",
                "X-Telegram-Bot-Api-Secret-Token": "abc",
                "X-Shop-Token": "t0ken",
                "Content-Type": "application/json",
            },
            secret=["x-shop-token"],
        )
        assert shown == {
            "Authorization": "[redacted]",
            "X-Telegram-Bot-Api-Secret-Token": "[redacted]",
            "X-Shop-Token": "[redacted]",
            "Content-Type": "application/json",
        }

    def test_credential_looking_headers_are_redacted(self) -> None:
        """Headers named like credentials are hidden even when no source declared them."""
        shown = redacted_headers(
            {
                "X-Shop-Token": "a",
                "Webhook-Signature": "v1,b",
                "X-Api-Key": "c",
                "Stripe-Signature": "t=1,v1=d",
                "Webhook-Id": "msg_1",
            }
        )
        assert shown == {
            "X-Shop-Token": "[redacted]",
            "Webhook-Signature": "[redacted]",
            "X-Api-Key": "[redacted]",
            "Stripe-Signature": "[redacted]",
            "Webhook-Id": "msg_1",
        }


class TestKnownSecrets:
    def test_masked_everywhere_in_the_record(self) -> None:
        """A known secret value is masked in the body, summary, headers and last error."""
        secret = "123456:TEST-TOKEN"
        event = _event("telegram", body(message_update(f"token {secret}")), {"X-Note": secret})
        record = event_record(event, redact=lambda text: text.replace(secret, "***"))
        assert secret not in str(record)
        assert record["body"]["message"]["text"] == "token ***"
        assert record["headers"] == {"X-Note": "***"}
