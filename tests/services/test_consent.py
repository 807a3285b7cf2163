"""Consent: an append-only record of decisions, a rebuildable state and one check that fails closed."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from loyalty.exceptions import (
    ConsentRequired,
    GuardianConsentRequired,
    NoticeMissing,
    NoticeOutdated,
    PurposeBasisMissing,
    PurposeRequired,
    UnknownPurpose,
)
from loyalty.models import (
    ConsentEvent,
    ConsentState,
    ConsentStatus,
    NoticeVersion,
    ProcessingPurpose,
    PurposeBasis,
    Recipient,
    Transfer,
)
from loyalty.services import (
    activate_purpose,
    adjust_points,
    enroll_member,
    has_consent,
    publish_notice,
    rebuild_consent_states,
    record_consent,
    record_transfer,
    require_consent,
)
from loyalty.services.consent import save_profile
from loyalty.services.privacy import TransferRefused


def grant(member, code, **kwargs):
    kwargs.setdefault("notice_version", 1)
    kwargs.setdefault("method", "web")
    return record_consent(member, code, "granted", **kwargs)


def years_ago(years: int, days: int = 30) -> date:
    today = timezone.localdate()
    return today.replace(year=today.year - years) - timedelta(days=days)


@pytest.fixture
def germany(make_market):
    return make_market("DE", "EUR", regimes=["gdpr"], countries=["DE"], residency_region="eu")


@pytest.fixture
def china(make_market):
    return make_market("CN", "CNY", regimes=["pipl"], countries=["CN"], residency_region="cn")


@pytest.fixture
def denmark(make_market):
    return make_market("DK", "DKK", regimes=["gdpr"], countries=["DK"], residency_region="eu")


# The record ----------------------------------------------------------------------------------------


def test_grant_withdraw_and_regrant_leave_three_events_and_the_state_rebuilds_the_same(
    make_member, germany, make_purpose
):
    make_purpose("marketing_email")
    member = make_member(market=germany)
    grant(member, "marketing_email")
    record_consent(member, "marketing_email", "withdrawn", method="web")
    grant(member, "marketing_email")
    assert list(
        ConsentEvent.objects.filter(member=member).order_by("id").values_list("action", flat=True)
    ) == [
        "granted",
        "withdrawn",
        "granted",
    ]
    before = list(ConsentState.objects.filter(member=member).values("purpose", "status", "last_event"))
    ConsentState.objects.filter(member=member).delete()
    rebuild_consent_states(member)
    assert (
        list(ConsentState.objects.filter(member=member).values("purpose", "status", "last_event")) == before
    )
    assert has_consent(member, "marketing_email")


def test_a_consent_event_can_never_be_changed_or_deleted(make_member, germany, make_purpose):
    make_purpose("marketing_email")
    member = make_member(market=germany)
    grant(member, "marketing_email")
    event = ConsentEvent.objects.get(member=member)
    event.action = "refused"
    with pytest.raises(Exception, match="append-only"):
        event.save()
    with pytest.raises(Exception, match="append-only"):
        ConsentEvent.objects.filter(member=member).update(action="refused")
    with pytest.raises(Exception, match="append-only"):
        event.delete()


def test_a_refusal_is_recorded_as_an_event(make_member, germany, make_purpose):
    make_purpose("marketing_email")
    member = make_member(market=germany)
    state = record_consent(member, "marketing_email", "refused", method="web")
    assert state.status == ConsentStatus.REFUSED
    assert ConsentEvent.objects.get(member=member).action == "refused"


def test_repeating_the_same_decision_records_nothing_new(make_member, germany, make_purpose):
    make_purpose("marketing_email")
    member = make_member(market=germany)
    grant(member, "marketing_email")
    grant(member, "marketing_email")
    assert ConsentEvent.objects.filter(member=member).count() == 1


def test_the_event_records_the_notice_language_and_a_hash_of_the_text_shown(
    make_member, germany, make_purpose
):
    make_purpose("marketing_email")
    member = make_member(market=germany, language="de")
    grant(member, "marketing_email")
    event = ConsentEvent.objects.get(member=member)
    assert (event.notice_version.version, event.language, event.regimes) == (1, "de", ["gdpr"])
    import hashlib

    shown = "Über Marketing email\n\nWas wir für Marketing email tun."
    assert event.text_sha256 == hashlib.sha256(shown.encode()).hexdigest()


def test_a_grant_against_an_outdated_notice_is_refused(make_member, germany, make_purpose):
    purpose = make_purpose("marketing_email")
    publish_notice(NoticeVersion.objects.create(purpose=purpose, version=2, title="v2", body="New text"))
    member = make_member(market=germany)
    with pytest.raises(NoticeOutdated):
        grant(member, "marketing_email", notice_version=1)
    assert not ConsentEvent.objects.filter(member=member).exists()


def test_a_material_notice_change_puts_consents_up_for_renewal_and_the_rebuild_agrees(
    make_member, germany, make_purpose
):
    purpose = make_purpose("marketing_email")
    member = make_member(market=germany)
    grant(member, "marketing_email")
    publish_notice(NoticeVersion.objects.create(purpose=purpose, version=2, title="v2", body="More uses"))
    assert ConsentState.objects.get(member=member).status == ConsentStatus.RENEWAL_REQUIRED
    assert not has_consent(member, "marketing_email")
    ConsentState.objects.filter(member=member).delete()
    rebuild_consent_states(member)
    assert ConsentState.objects.get(member=member).status == ConsentStatus.RENEWAL_REQUIRED
    grant(member, "marketing_email", notice_version=2)
    assert has_consent(member, "marketing_email")


def test_an_editorial_notice_change_keeps_consents_valid(make_member, germany, make_purpose):
    purpose = make_purpose("marketing_email")
    member = make_member(market=germany)
    grant(member, "marketing_email")
    publish_notice(
        NoticeVersion.objects.create(
            purpose=purpose, version=2, title="v2", body="Typo fixed", change_type="editorial"
        )
    )
    assert has_consent(member, "marketing_email")


def test_a_published_notice_cannot_be_edited(make_purpose):
    notice = NoticeVersion.objects.get(purpose=make_purpose("marketing_email"))
    notice.body = "Quietly changed"
    with pytest.raises(Exception, match="published"):
        notice.save()


# Purposes ------------------------------------------------------------------------------------------


def test_a_purpose_cannot_be_activated_while_a_regime_in_use_has_no_basis(germany, china, make_purpose):
    purpose = make_purpose("marketing_email", bases={"gdpr": ("consent", "opt_in")}, active=False)
    with pytest.raises(PurposeBasisMissing, match="PIPL"):
        activate_purpose(purpose)
    PurposeBasis.objects.create(purpose=purpose, regime="pipl", lawful_basis="consent", consent_kind="opt_in")
    activate_purpose(purpose)
    assert ProcessingPurpose.objects.get(pk=purpose.pk).is_active


def test_a_consent_purpose_cannot_be_activated_without_a_published_notice(germany, make_purpose):
    purpose = make_purpose("marketing_email", notice=False, active=False)
    with pytest.raises(NoticeMissing):
        activate_purpose(purpose)


def test_pipl_refuses_legitimate_interest(make_purpose):
    purpose = make_purpose("personalised_offers", active=False, bases={})
    basis = PurposeBasis(purpose=purpose, regime="pipl", lawful_basis="legitimate_interest")
    with pytest.raises(Exception, match="legitimate interest"):
        basis.full_clean()


def test_a_legitimate_interest_purpose_elsewhere_needs_consent_from_pipl_members(
    make_member, germany, china, make_purpose
):
    make_purpose(
        "personalised_offers",
        bases={"gdpr": ("legitimate_interest", "none"), "pipl": ("consent", "opt_in")},
    )
    assert has_consent(make_member(market=germany), "personalised_offers")
    pipl_member = make_member(market=china)
    assert not has_consent(pipl_member, "personalised_offers")
    grant(pipl_member, "personalised_offers")
    assert has_consent(pipl_member, "personalised_offers")


def test_an_objection_stops_legitimate_interest_processing(make_member, germany, make_purpose):
    make_purpose("personalised_offers", bases={"gdpr": ("legitimate_interest", "none")})
    member = make_member(market=germany)
    record_consent(member, "personalised_offers", "objected", method="web")
    assert not has_consent(member, "personalised_offers")


def test_pipl_asks_a_separate_consent_for_sharing_public_display_sensitive_data_and_transfers(make_purpose):
    for code in ("partner_sharing", "public_display", "cross_border_transfer"):
        purpose = make_purpose(code, active=False, bases={})
        basis = PurposeBasis(purpose=purpose, regime="pipl", lawful_basis="consent", consent_kind="opt_in")
        with pytest.raises(Exception, match="separate consent"):
            basis.full_clean()
    sensitive = make_purpose("health_offers", is_sensitive=True, active=False, bases={})
    with pytest.raises(Exception, match="separate consent"):
        PurposeBasis(
            purpose=sensitive, regime="pipl", lawful_basis="consent", consent_kind="opt_in"
        ).full_clean()


# The check fails closed ----------------------------------------------------------------------------


def test_no_consent_means_no_processing(make_member, germany, make_purpose):
    make_purpose("marketing_email")
    member = make_member(market=germany)
    assert not has_consent(member, "marketing_email")
    with pytest.raises(ConsentRequired):
        require_consent(member, "marketing_email")


def test_an_unknown_or_inactive_purpose_means_no_processing(make_member, germany, make_purpose):
    make_purpose("marketing_sms", active=False)
    member = make_member(market=germany)
    assert not has_consent(member, "marketing_sms")
    assert not has_consent(member, "no_such_purpose")
    with pytest.raises(UnknownPurpose):
        grant(member, "marketing_sms")


def test_a_regime_without_a_basis_means_no_processing(make_member, make_market, germany, make_purpose):
    make_purpose("marketing_email")
    brazil = make_market("BR", "BRL", regimes=["lgpd"], countries=["BR"])
    PurposeBasis.objects.filter(regime="lgpd").delete()
    member = make_member(market=brazil)
    assert not has_consent(member, "marketing_email")


def test_a_restricted_member_is_not_processed_for_optional_purposes(make_member, germany, make_purpose):
    make_purpose("marketing_email")
    member = make_member(market=germany)
    grant(member, "marketing_email")
    member.restricted_at = timezone.now()
    member.save()
    assert not has_consent(member, "marketing_email")


def test_a_required_purpose_cannot_be_refused_or_withdrawn(make_member, germany, make_purpose):
    make_purpose("membership", required=True, bases={"gdpr": ("contract", "none")})
    member = make_member(market=germany)
    for action in ("refused", "withdrawn"):
        with pytest.raises(PurposeRequired):
            record_consent(member, "membership", action, method="web")
    assert has_consent(member, "membership")


# Enrolment and withdrawal --------------------------------------------------------------------------


def test_enrolment_succeeds_with_every_optional_purpose_declined(make_user, germany, make_purpose):
    for code in ("marketing_email", "marketing_sms", "birthday_rewards"):
        make_purpose(code)
    member = enroll_member(make_user(), market=germany)
    for code in ("marketing_email", "marketing_sms", "birthday_rewards"):
        record_consent(member, code, "refused", method="web", separate=False, collection_point="join")
    assert member.pk and not any(
        has_consent(member, code) for code in ("marketing_email", "birthday_rewards")
    )


def test_withdrawing_stops_the_processing_and_keeps_the_points(make_member, germany, make_purpose, staff):
    make_purpose("marketing_email")
    member = make_member(market=germany)
    adjust_points(member, points=300, reason="welcome", actor=staff)
    grant(member, "marketing_email")
    record_consent(member, "marketing_email", "withdrawn", method="web")
    assert not has_consent(member, "marketing_email")
    member.account.refresh_from_db()
    assert member.account.available == 300


# PIPL ----------------------------------------------------------------------------------------------


@pytest.fixture
def overseas(make_purpose):
    """A partner in Singapore that gets Chinese members' data under a PIPL standard contract."""
    partner = Recipient.objects.create(name="Overseas CRM", role="processor", country="SG")
    Transfer.objects.create(
        recipient=partner, regime="pipl", mechanism="pipl_contract", reference="CAC-2026-1"
    )
    make_purpose(
        "membership", required=True, bases={"pipl": ("contract", "none"), "gdpr": ("contract", "none")}
    )
    transfer = make_purpose("cross_border_transfer")
    transfer.recipients.add(partner)
    return partner


def test_a_pipl_transfer_abroad_is_not_satisfied_by_accepting_the_privacy_policy(
    make_member, china, overseas
):
    member = make_member(market=china)
    grant(member, "membership")
    assert not has_consent(member, "cross_border_transfer")
    with pytest.raises(TransferRefused):
        record_transfer(member, overseas, purpose_code="membership")


def test_a_pipl_transfer_abroad_needs_a_separate_consent(make_member, china, overseas):
    member = make_member(market=china)
    grant(member, "cross_border_transfer", separate=False)
    assert not has_consent(member, "cross_border_transfer")
    with pytest.raises(TransferRefused):
        record_transfer(member, overseas, purpose_code="membership")
    grant(member, "cross_border_transfer", separate=True)
    assert has_consent(member, "cross_border_transfer")
    record = record_transfer(member, overseas, purpose_code="membership")
    assert (record.recipient, record.member, record.year) == (overseas, member, timezone.now().year)


def test_a_transfer_abroad_without_a_mechanism_for_the_regime_is_refused(make_member, germany, overseas):
    member = make_member(market=germany)
    with pytest.raises(TransferRefused):
        record_transfer(member, overseas, purpose_code="membership")


def test_the_yearly_head_count_warns_past_a_pipl_threshold(make_member, china, overseas, monkeypatch, caplog):
    monkeypatch.setattr("loyalty.services.privacy.PIPL_THRESHOLDS", (1, 10))
    for _ in range(2):
        member = make_member(market=china)
        grant(member, "cross_border_transfer")
        record_transfer(member, overseas, purpose_code="membership")
    assert "passed a PIPL threshold: 2 people" in caplog.text


# Minors --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("market_name", ["germany", "china"])
def test_a_13_year_old_needs_a_guardian_in_germany_and_in_china(
    request, make_member, make_purpose, market_name
):
    make_purpose("marketing_email")
    member = make_member(market=request.getfixturevalue(market_name))
    save_profile(member, birth_date=years_ago(13))
    with pytest.raises(GuardianConsentRequired):
        grant(member, "marketing_email")
    assert not has_consent(member, "marketing_email")
    grant(member, "marketing_email", actor="guardian", method="admin", collection_point="signed form")
    assert has_consent(member, "marketing_email")


def test_a_13_year_old_in_a_country_where_13_is_the_age_consents_alone(make_member, denmark, make_purpose):
    make_purpose("marketing_email")
    member = make_member(market=denmark)
    save_profile(member, birth_date=years_ago(13))
    grant(member, "marketing_email")
    assert has_consent(member, "marketing_email")


def test_a_minors_earlier_own_consent_does_not_count(make_member, germany, make_purpose):
    make_purpose("marketing_email")
    member = make_member(market=germany)
    grant(member, "marketing_email")
    save_profile(member, birth_date=years_ago(15))
    assert not has_consent(member, "marketing_email")


def test_the_birthday_bonus_is_paid_only_with_consent(make_member, germany, make_purpose):
    from datetime import UTC, datetime

    from loyalty.models import EarnRule
    from loyalty.services import award_birthday_bonuses

    EarnRule.objects.create(
        code="birthday", name="Birthday", event="birthday", mode="fixed", fixed_points=250
    )
    make_purpose("birthday_rewards")
    consenting, silent = make_member(market=germany), make_member(market=germany)
    for member in (consenting, silent):
        save_profile(member, birth_date=date(1990, 6, 1))
    grant(consenting, "birthday_rewards")
    assert award_birthday_bonuses(now=datetime(2026, 6, 1, 10, tzinfo=UTC)) == 1
    assert consenting.account.entries.filter(entry_type="bonus").exists()
    assert not silent.account.entries.filter(entry_type="bonus").exists()
