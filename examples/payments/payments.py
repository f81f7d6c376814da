"""Crypto Pay ``invoice_paid`` → the user's balance is credited, then the user is told.

Idempotent on the provider's id: the invoice id is the primary key of ``payments_credits``.
hookgram already keeps one inbox event per invoice (``dedup = "json:payload.invoice_id"``),
but a handler may still run twice for one event (a crash after the credit, a retry after a
failed send, ``hookgram events replay``); the second run credits nothing and, once the user
has been told, tells them nothing either.
"""

from __future__ import annotations

from decimal import Decimal

from aiogram import Bot
from sqlalchemy import BigInteger, Boolean, Column, MetaData, String, Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hookgram.handlers.event import SourceEvent
from hookgram.retry import Unprocessable

metadata = MetaData()

credits = Table(
    "payments_credits",
    metadata,
    Column("invoice_id", BigInteger, primary_key=True),
    Column("user_id", BigInteger, nullable=False, index=True),
    Column("asset", String(16), nullable=False),
    Column("amount", String(32), nullable=False),
    Column("announced", Boolean, nullable=False, default=False),
)


async def on_update(event: SourceEvent, bot: Bot, session: AsyncSession) -> None:
    """Credit a paid invoice once, then tell its user once."""
    if event.body.get("update_type") != "invoice_paid":
        return
    invoice = event.body["payload"]
    invoice_id, user_id = int(invoice["invoice_id"]), user_of(invoice)
    # A real deployment creates its tables with its migrations; this keeps the example short.
    await session.run_sync(lambda sync: metadata.create_all(sync.connection()))
    credited = await session.execute(select(credits).where(credits.c.invoice_id == invoice_id))
    row = credited.first()
    if row is None:
        await session.execute(
            insert(credits).values(
                invoice_id=invoice_id,
                user_id=user_id,
                asset=invoice["asset"],
                amount=invoice["amount"],
                announced=False,
            )
        )
        # The credit is durable before anyone is told (and the database is not held
        # while Telegram answers).
        await session.commit()
    elif row.announced:
        return
    balance = await balance_of(session, user_id, invoice["asset"])
    await bot.send_message(
        user_id,
        f"Payment received: {invoice['amount']} {invoice['asset']}. "
        f"Your balance: {balance} {invoice['asset']}.",
    )
    await session.execute(
        update(credits).where(credits.c.invoice_id == invoice_id).values(announced=True)
    )
    # hookgram commits the session after this function returns.


def user_of(invoice: dict[str, object]) -> int:
    """The bot user the invoice was made for: created with ``payload="user:<telegram id>"``."""
    kind, _, user_id = str(invoice.get("payload", "")).partition(":")
    if kind != "user" or not user_id.isdigit():
        # Kept as "failed" for a person to look at; retrying would not help.
        raise Unprocessable(f"invoice {invoice.get('invoice_id')} names no user")
    return int(user_id)


async def balance_of(session: AsyncSession, user_id: int, asset: str) -> Decimal:
    """Everything credited to the user in ``asset``."""
    amounts = await session.scalars(
        select(credits.c.amount).where(credits.c.user_id == user_id, credits.c.asset == asset)
    )
    return sum((Decimal(a) for a in amounts), Decimal(0))
