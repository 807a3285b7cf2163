"""Coalition earning: partners (an airline, a hotel, a card) award points at their own rate."""

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from djmoney.money import Money

from ..conf import loyalty_settings
from ..exceptions import EventNotAllowed, MemberClosed, UnknownPartnerAward
from ..models import EntryType, EventSource, LedgerEntry, LotAllocation, Member, MemberStatus, PartnerAward
from ..money import quantize_money, validate_money, whole_points
from ..selectors.partners import PARTNER_RATE_RULE
from ..selectors.rates import conversion_fields, convert
from ..signals import points_reversed, send_on_commit
from .engagement import credit_bonus
from .ledger import (
    ensure_same_request,
    existing_entry,
    ledger_key,
    lock_account,
    plan_debit,
    save_account,
    write_entry,
)


def partner_key(partner: EventSource, reference: str) -> str:
    return ledger_key("partner", partner.code, reference)


def earn_partner_points(
    partner: EventSource, member: Member, *, amount: Money, reference: str
) -> LedgerEntry | None:
    """Credit spendable points for ``amount`` spent at ``partner``, once per ``reference``.

    Points are the amount in the partner's settlement currency (converted at the recorded rate when
    it was paid in another) times the partner's rate, rounded down; None when that is no point.
    They count from when they are recorded: a partner cannot date them back into a settled period
    or into a lot that has already expired. What the partner owes for them is recorded with them,
    at its price per point of the day (a ``PartnerAward``).
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
        entry = credit_bonus(
            account,
            points=points,
            key=key,
            source=partner.code,
            source_ref=reference,
            at=timezone.now(),
            amount=amount,
            rate=partner.points_per_unit,
            rate_rule=PARTNER_RATE_RULE,
            **conversion_fields(conversion),
        )
        PartnerAward.objects.create(
            partner=partner,
            entry=entry,
            points=points,
            point_price=partner.point_price,
            value=quantize_money(Money(points * partner.point_price, partner.currency)),
            created_at=entry.created_at,
        )
        return entry


def reverse_partner_points(partner: EventSource, *, reference: str) -> LedgerEntry:
    """Take back the points of one award (the partner's sale was cancelled), once; the partner owes
    nothing for them any more.

    The points come from the award's own lot first. Points of it that expired unused are not taken
    back a second time (forgiven); what the member already spent follows ``NEGATIVE_BALANCE_POLICY``,
    as for a refunded order.
    """
    key = ledger_key("partner", partner.code, reference, "reversal")
    award = (
        PartnerAward.objects.filter(partner=partner, entry__idempotency_key=partner_key(partner, reference))
        .select_related("entry__account__member")
        .first()
    )
    if award is None:
        raise UnknownPartnerAward()
    with transaction.atomic():
        account = lock_account(award.entry.account.member)
        existing = existing_entry(key)
        if existing is not None:
            return existing
        earned = award.entry
        forgiven = (
            LotAllocation.objects.filter(lot__entry=earned, entry__entry_type=EntryType.EXPIRY).aggregate(
                total=Sum("points")
            )["total"]
            or 0
        )
        owed = earned.points - forgiven
        plan = plan_debit(account, owed, prefer_entry=earned)
        shortfall = owed - plan.points
        account.available -= plan.points
        account.lifetime_earned -= earned.points
        if loyalty_settings.NEGATIVE_BALANCE_POLICY == "allow_negative":
            account.debt += shortfall
            moved = {"points": -owed, "debt_points": shortfall, "written_off": forgiven}
        else:
            moved = {"points": -plan.points, "written_off": shortfall + forgiven}
        entry = write_entry(
            account,
            entry_type=EntryType.REVERSAL,
            source=partner.code,
            source_ref=reference,
            idempotency_key=key,
            reason="partner_reversed",
            corrects=earned,
            rate_rule=PARTNER_RATE_RULE,
            **moved,
        )
        plan.apply(entry)
        save_account(account)
        PartnerAward.objects.create(
            partner=partner,
            entry=entry,
            points=-award.points,
            point_price=award.point_price,
            value=-award.value,
            created_at=entry.created_at,
        )
        send_on_commit(points_reversed, LedgerEntry, member=account.member, entry=entry)
    return entry
