"""Invoices and a simulated Telegram Stars payment: sendInvoice, then a user pays, the bot gets
a pre_checkout_query, answers it with answerPreCheckoutQuery, then gets successful_payment."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from hookgram.sandbox import updates
from hookgram.sandbox.actions import user_message
from hookgram.sandbox.outgoing import deliver
from hookgram.sandbox.replies import APIError
from hookgram.sandbox.request import Args
from hookgram.sandbox.state import BotIdentity, World

STARS = "XTR"
_QUERY_GONE = "query is too old and response timeout expired or query ID is invalid"
_MAX_PAYLOAD_BYTES = 128


async def send_invoice(world: World, bot: BotIdentity, args: Args) -> dict[str, Any]:
    """An invoice message; in Telegram Stars (XTR) it has one price and no provider token."""
    chat = world.chats.reachable(args.chat_id())
    title, description = _required(args, "title", 32), _required(args, "description", 255)
    payload = args.text("payload") or ""
    if not 1 <= len(payload.encode()) <= _MAX_PAYLOAD_BYTES:
        raise APIError.bad_request("invoice payload must be 1-128 bytes")
    currency = (args.text("currency") or "").upper()
    prices = _prices(args)
    if currency == STARS and (len(prices) != 1 or args.text("provider_token")):
        raise APIError.bad_request("STARS_INVOICE_INVALID")
    if currency != STARS and not args.text("provider_token"):
        raise APIError.bad_request("PAYMENT_PROVIDER_INVALID")
    invoice = {
        "title": title,
        "description": description,
        "start_parameter": args.text("start_parameter") or "",
        "currency": currency,
        "total_amount": sum(price["amount"] for price in prices),
    }
    message = deliver(world, bot, chat, args, {"invoice": invoice})
    world.invoices[(chat["id"], message["message_id"])] = {**invoice, "payload": payload}
    return message


async def answer_pre_checkout_query(world: World, bot: BotIdentity, args: Args) -> bool:
    """Approve or decline a pending payment; declining needs an error_message."""
    query_id = args.text("pre_checkout_query_id") or ""
    pending = world.pre_checkouts.get(query_id)
    if pending is None or pending.done():
        raise APIError.bad_request(_QUERY_GONE)
    ok = args.flag("ok")
    error_message = args.text("error_message") or ""
    if not ok and not error_message:
        raise APIError.bad_request("error_message must be non-empty when ok is False")
    pending.set_result({"ok": ok, "error_message": error_message})
    return True


async def pay(
    world: World, chat: dict[str, Any], user: dict[str, Any], message_id: int, timeout: float
) -> dict[str, Any]:
    """The user pays an invoice: "paid" with the successful_payment message, else why not."""
    invoice = world.invoices.get((chat["id"], message_id))
    if invoice is None:
        raise APIError(404, f"Not Found: message {message_id} in chat {chat['id']} is no invoice")
    query_id = str(secrets.randbelow(10**18))
    answer = world.pre_checkouts[query_id] = asyncio.get_running_loop().create_future()
    query = {
        "id": query_id,
        "from": user,
        "currency": invoice["currency"],
        "total_amount": invoice["total_amount"],
        "invoice_payload": invoice["payload"],
    }
    try:
        updates.enqueue(world, {"pre_checkout_query": query})
        verdict = await asyncio.wait_for(answer, timeout)
    except TimeoutError:
        return {"status": "expired", "error_message": f"the bot did not answer in {timeout:g} s"}
    finally:
        world.pre_checkouts.pop(query_id, None)
    if not verdict["ok"]:
        return {"status": "declined", "error_message": verdict["error_message"]}
    return {"status": "paid", **user_message(world, chat, user, _receipt(query, invoice), None)}


def _receipt(query: dict[str, Any], invoice: dict[str, Any]) -> dict[str, Any]:
    charge = f"stxsandbox{secrets.token_hex(12)}"
    payment = {
        "currency": query["currency"],
        "total_amount": query["total_amount"],
        "invoice_payload": query["invoice_payload"],
        "telegram_payment_charge_id": charge,
        "provider_payment_charge_id": "" if invoice["currency"] == STARS else f"sandbox-{charge}",
    }
    return {"successful_payment": payment}


def _required(args: Args, name: str, longest: int) -> str:
    value = args.text(name) or ""
    if not 1 <= len(value) <= longest:
        raise APIError.bad_request(f"{name} must be 1-{longest} characters")
    return value


def _prices(args: Args) -> list[dict[str, Any]]:
    prices = args.structure("prices")
    if not isinstance(prices, list) or not prices:
        raise APIError.bad_request("can't parse prices JSON object")
    for price in prices:
        amount = price.get("amount") if isinstance(price, dict) else None
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise APIError.bad_request("CURRENCY_TOTAL_AMOUNT_INVALID")
        if not str(price.get("label") or "").strip():
            raise APIError.bad_request("price label must be non-empty")
    return prices
