"""Domain errors. Each has a stable ``code`` that API clients can rely on and a translated detail."""

from django.utils.translation import gettext_lazy as _


class LoyaltyError(Exception):
    """Base of every domain error; ``code`` is stable, ``detail`` is shown to people."""

    code = "loyalty_error"
    default_detail = _("The loyalty operation failed.")
    status_code = 400

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail if detail is not None else self.default_detail
        super().__init__(str(self.detail))


class InsufficientPoints(LoyaltyError):
    code = "insufficient_points"
    default_detail = _("Not enough points available.")
    status_code = 409


class MemberFrozen(LoyaltyError):
    code = "member_frozen"
    default_detail = _("This membership is frozen; points cannot be spent.")
    status_code = 403


class MemberClosed(LoyaltyError):
    code = "member_closed"
    default_detail = _("This membership is closed.")
    status_code = 403


class NotAMember(LoyaltyError):
    code = "not_a_member"
    default_detail = _("You are not a member of the loyalty program.")
    status_code = 404


class AlreadyEnrolled(LoyaltyError):
    code = "already_enrolled"
    default_detail = _("This user is already a member in another market.")
    status_code = 409


class UnknownMarket(LoyaltyError):
    code = "unknown_market"
    default_detail = _("No active market with this code.")


class InvalidLanguage(LoyaltyError):
    code = "invalid_language"
    default_detail = _("This language is not offered.")


class UnknownOrder(LoyaltyError):
    code = "unknown_order"
    default_detail = _("No order with this id was recorded.")
    status_code = 404


class OrderCancelled(LoyaltyError):
    code = "order_cancelled"
    default_detail = _("This order was cancelled.")
    status_code = 409


class InvalidAmount(LoyaltyError):
    code = "invalid_amount"
    default_detail = _("The amount must be a positive Money value in a known currency.")


class CurrencyNotAccepted(LoyaltyError):
    code = "currency_not_accepted"
    default_detail = _("This market does not accept the order's currency.")


class ExchangeRateMissing(LoyaltyError):
    code = "exchange_rate_missing"
    default_detail = _("No exchange rate is known for this currency yet.")
    status_code = 503


class ArbitrageRisk(LoyaltyError):
    code = "arbitrage_risk"
    default_detail = _(
        "This configuration would let members earn in one market and redeem for more elsewhere."
    )
    status_code = 409


class MarketChangeTooSoon(LoyaltyError):
    code = "market_change_too_soon"
    default_detail = _("The market was changed too recently to change it again.")
    status_code = 409


class InvalidPoints(LoyaltyError):
    code = "invalid_points"
    default_detail = _("Points must be a whole number other than zero.")


class ReasonRequired(LoyaltyError):
    code = "reason_required"
    default_detail = _("A reason is required.")


class IdempotencyConflict(LoyaltyError):
    code = "idempotency_conflict"
    default_detail = _("This idempotency key was already used for a different request.")
    status_code = 409


class InvalidOrderId(LoyaltyError):
    code = "invalid_order_id"
    default_detail = _("The order id must be a non-empty text of at most 100 characters.")


class InvalidRefundId(LoyaltyError):
    code = "invalid_refund_id"
    default_detail = _("The refund id must be a non-empty text of at most 100 characters.")


class InvalidSource(LoyaltyError):
    code = "invalid_source"
    default_detail = _("The source must be a non-empty text of at most 50 characters.")


class InvalidIdempotencyKey(LoyaltyError):
    code = "invalid_idempotency_key"
    default_detail = _("The idempotency key must be a non-empty text of at most 150 characters.")


class InvalidTimestamp(LoyaltyError):
    code = "invalid_timestamp"
    default_detail = _("Times must be aware datetimes (with a time zone).")


class ActorRequired(LoyaltyError):
    code = "actor_required"
    default_detail = _("A staff user must be named for this operation.")
    status_code = 403


class UnknownTier(LoyaltyError):
    code = "unknown_tier"
    default_detail = _("There is no such tier.")
    status_code = 404


class InvalidOrderLines(LoyaltyError):
    code = "invalid_order_lines"
    default_detail = _(
        "Order lines need a SKU, a positive quantity and, if given, an amount in the order's currency."
    )


class InvalidEvent(LoyaltyError):
    code = "invalid_event"
    default_detail = _("Unknown event, or an event id that is empty or longer than 100 characters.")


class InvalidReferralCode(LoyaltyError):
    code = "invalid_referral_code"
    default_detail = _("This referral code does not exist.")
    status_code = 404


class SelfReferral(LoyaltyError):
    code = "self_referral"
    default_detail = _("You cannot use your own referral code.")


class ReferralNotAllowed(LoyaltyError):
    code = "referral_not_allowed"
    default_detail = _("A referral code can only be added once, before the first order.")
    status_code = 409


class RewardNotFound(LoyaltyError):
    code = "reward_not_found"
    default_detail = _("There is no such reward in your catalog.")
    status_code = 404


class RewardUnavailable(LoyaltyError):
    code = "reward_unavailable"
    default_detail = _("This reward is out of stock.")
    status_code = 409


class RedemptionLimitReached(LoyaltyError):
    code = "redemption_limit_reached"
    default_detail = _("You have already redeemed this reward as many times as allowed for now.")
    status_code = 409


class InvalidQuantity(LoyaltyError):
    code = "invalid_quantity"
    default_detail = _("The quantity must be a positive whole number.")


class RedemptionNotFound(LoyaltyError):
    code = "redemption_not_found"
    default_detail = _("There is no such redemption.")
    status_code = 404


class RedemptionNotCancellable(LoyaltyError):
    code = "redemption_not_cancellable"
    default_detail = _("Only an issued reward that has not been used or expired can be cancelled.")
    status_code = 409


class UnknownCoupon(LoyaltyError):
    code = "unknown_coupon"
    default_detail = _("No reward was issued with this coupon code.")
    status_code = 404


class CouponUsed(LoyaltyError):
    code = "coupon_used"
    default_detail = _("This coupon was already used on another order.")
    status_code = 409


class CouponCancelled(LoyaltyError):
    code = "coupon_cancelled"
    default_detail = _("This coupon was cancelled.")
    status_code = 409


class CouponExpired(LoyaltyError):
    code = "coupon_expired"
    default_detail = _("This coupon has expired.")
    status_code = 409


class NotStaffFulfilled(LoyaltyError):
    code = "not_staff_fulfilled"
    default_detail = _("Only issued gifts and experiences are fulfilled by staff.")
    status_code = 409


class IdempotencyKeyRequired(LoyaltyError):
    code = "idempotency_key_required"
    default_detail = _("Send an Idempotency-Key header so that a retried request is not applied twice.")


class InvalidFilter(LoyaltyError):
    code = "invalid_filter"
    default_detail = _("A filter or sort order is not valid.")


class ConsentRequired(LoyaltyError):
    code = "consent_required"
    default_detail = _("The member has not given the consent this needs.")
    status_code = 403


class UnknownPurpose(LoyaltyError):
    code = "unknown_purpose"
    default_detail = _("No active processing purpose with this code.")
    status_code = 404


class PurposeRequired(LoyaltyError):
    code = "purpose_required"
    default_detail = _(
        "This processing is needed to run the membership; it cannot be refused without leaving the program."
    )
    status_code = 409


class NoticeOutdated(LoyaltyError):
    code = "notice_outdated"
    default_detail = _(
        "The notice has changed since it was shown; read the current version and decide again."
    )
    status_code = 409


class GuardianConsentRequired(LoyaltyError):
    code = "guardian_consent_required"
    default_detail = _("At this age, a parent or guardian must give this consent.")
    status_code = 403


class PurposeBasisMissing(LoyaltyError):
    code = "purpose_basis_missing"
    default_detail = _("The purpose needs a lawful basis for every regime its markets fall under.")
    status_code = 409


class NoticeMissing(LoyaltyError):
    code = "notice_missing"
    default_detail = _("A purpose that asks for consent needs a published notice.")
    status_code = 409


class BelowMinimumAge(LoyaltyError):
    code = "below_minimum_age"
    default_detail = _("You are below the minimum age to join the program in this market.")
    status_code = 403


class BirthDateRequired(LoyaltyError):
    code = "birth_date_required"
    default_detail = _("This market asks for your birth date to check the minimum age.")


class InvalidRequestKind(LoyaltyError):
    code = "invalid_request_kind"
    default_detail = _("Unknown kind of privacy request.")


class RequestNotOpen(LoyaltyError):
    code = "request_not_open"
    default_detail = _("This privacy request is already closed.")
    status_code = 409


class RejectionGroundRequired(LoyaltyError):
    code = "rejection_ground_required"
    default_detail = _("A request can only be rejected on a stated legal ground.")


class InvalidExtension(LoyaltyError):
    code = "invalid_extension"
    default_detail = _("An extension needs a reason and a new due date later than the current one.")


class ErasureHeld(LoyaltyError):
    code = "erasure_held"
    default_detail = _("The member cannot be erased yet.")
    status_code = 409


class ExportNotFound(LoyaltyError):
    code = "export_not_found"
    default_detail = _("No data export at this link.")
    status_code = 404


class ExportExpired(LoyaltyError):
    code = "export_expired"
    default_detail = _("This download link has expired; request a new copy of your data.")
    status_code = 410


class TransferRefused(LoyaltyError):
    code = "transfer_refused"
    default_detail = _("The member's data cannot be sent to this recipient.")
    status_code = 403


class InvalidPurposeCode(LoyaltyError):
    code = "invalid_purpose"
    default_detail = _("Name the purpose by its code.")


class InvalidConsentDecision(LoyaltyError):
    code = "invalid_decision"
    default_detail = _("The decision must be grant, withdraw or refuse.")


class InvalidNoticeVersion(LoyaltyError):
    code = "invalid_notice_version"
    default_detail = _("Send the version number of the notice you were shown.")


class ConfirmationRequired(LoyaltyError):
    code = "confirmation_required"
    default_detail = _(
        "Erasure closes your membership and forfeits your remaining points; confirm that you want it."
    )


class InvalidRequestMessage(LoyaltyError):
    code = "invalid_message"
    default_detail = _("The message must be a text of at most 5,000 characters.")


class InvalidExportFormat(LoyaltyError):
    code = "invalid_export_format"
    default_detail = _("The format must be json or csv.")


class UnknownSource(LoyaltyError):
    code = "unknown_source"
    default_detail = _("Name a known, active event source with a configured secret in X-Loyalty-Source.")
    status_code = 401


class InvalidSignature(LoyaltyError):
    code = "invalid_signature"
    default_detail = _("The X-Loyalty-Signature header does not match the body.")
    status_code = 401


class SignatureExpired(LoyaltyError):
    code = "signature_expired"
    default_detail = _("The signature's timestamp is too far from now; sign the delivery again.")
    status_code = 401


class MalformedEvent(LoyaltyError):
    code = "malformed_event"
    default_detail = _("The body must be a JSON object with an id, a type and data as documented.")


class UnknownEventType(LoyaltyError):
    code = "unknown_event_type"
    default_detail = _("This event type is not supported.")


class EventNotAllowed(LoyaltyError):
    code = "event_not_allowed"
    default_detail = _("This source may not send this type of event.")
    status_code = 403


class UnknownCustomer(LoyaltyError):
    code = "unknown_customer"
    default_detail = _("No member is enrolled with this customer id; send customer.created first.")
    status_code = 404


class UnknownPartnerAward(LoyaltyError):
    code = "unknown_award"
    default_detail = _("This partner awarded no points under this reference.")
    status_code = 404


class UnknownMember(LoyaltyError):
    code = "unknown_member"
    default_detail = _("No active member has this member number.")
    status_code = 404


class EventNotRetryable(LoyaltyError):
    code = "event_not_retryable"
    default_detail = _("This event was already delivered, or it is being sent right now.")
    status_code = 409
