"""A test bot that sells for Telegram Stars: an invoice, the pre-checkout answer, a receipt."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import LabeledPrice, Message, PreCheckoutQuery


def create_router() -> Router:
    """/buy sends a 5-star invoice; payloads starting "no-" are declined; payment is thanked."""
    router = Router(name="shop")

    @router.message(Command("buy", "nobuy"))
    async def buy(message: Message) -> None:
        declined = (message.text or "").startswith("/nobuy")
        await message.answer_invoice(
            title="A cup of tea",
            description="Hot and sweet",
            payload="no-tea" if declined else "tea",
            currency="XTR",
            prices=[LabeledPrice(label="Tea", amount=5)],
        )

    @router.pre_checkout_query()
    async def check(query: PreCheckoutQuery) -> None:
        if query.invoice_payload.startswith("no-"):
            await query.answer(ok=False, error_message="Out of tea, sorry")
        else:
            await query.answer(ok=True)

    @router.message(F.successful_payment)
    async def paid(message: Message) -> None:
        payment = message.successful_payment
        assert payment is not None
        await message.answer(f"Thanks for <b>{payment.total_amount}</b> stars!", parse_mode="HTML")

    return router
