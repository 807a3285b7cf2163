"""Coalition earning: partners (an airline, a hotel, a card) award points at their own rate."""

from datetime import datetime

from django.db import transaction
from djmoney.money import Money

from ..exceptions import EventNotAllowed, MemberClosed
from ..models import EntryType, EventSource, LedgerEntry, Member, MemberStatus
from ..money import validate_money, whole_points
from ..selectors.rates import conversion_fields, convert
from ..signals import points_earned, send_on_commit
from .ledger import (
    apply_credit,
    create_lot,
    ensure_same_request,
    existing_entry,
    ledger_key,
    lock_account,
    lot_expiry,
    save_account,
    write_entry,
)

PARTNER_RATE_RULE = "partner"


def partner_key(partner: EventSource, reference: str) -> str:
    return ledger_key("partner", partner.code, reference)


def earn_partner_points(
    partner: EventSource, member: Member, *, amount: Money, reference: str, at: datetime
) -> LedgerEntry | None:
    """Credit spendable points for ``amount`` spent at ``partner``, once per ``reference``.

    Points are the amount in the partner's settlement currency (converted at the recorded rate when
    it was paid in another) times the partner's rate, rounded down. None when that is no point.
    """
    if not partner.is_partner:
        raise EventNotAllowed()
    amount = validate_money(amount)
    key = partner_key(partner, reference)
    with transaction.atomic():
        account = lock_account(member)
        existing = existing_entry(key)
        if existing is not None:
            ensure_same_request(existing.amount == amount and existing.account_id == account.pk)
            return existing
        if account.member.status == MemberStatus.CLOSED:
            raise MemberClosed()
        conversion = None if amount.currency.code == partner.currency else convert(amount, partner.currency)
        spent = conversion.exact(amount.amount) if conversion else amount.amount
        points = whole_points(spent * partner.points_per_unit)
        if points <= 0:
            return None
        spendable = apply_credit(account, points)
        account.lifetime_earned += points
        entry = write_entry(
            account,
            entry_type=EntryType.BONUS,
            points=points,
            debt_points=spendable - points,
            source=partner.code,
            source_ref=reference,
            idempotency_key=key,
            amount=amount,
            rate=partner.points_per_unit,
            rate_rule=PARTNER_RATE_RULE,
            effective_at=at,
            **conversion_fields(conversion),
        )
        create_lot(account, entry, spendable, expires_at=lot_expiry(at))
        save_account(account)
        send_on_commit(points_earned, LedgerEntry, member=account.member, entry=entry)
    return entry
