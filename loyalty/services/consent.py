"""Consent: decisions recorded as events, the current state derived from them, and the one check.

Every processing that needs consent asks ``has_consent(member, purpose_code)`` (or
``require_consent``, which raises ``consent_required``). The check fails closed: an unknown or
inactive purpose, a regime without a lawful basis, a missing, refused, withdrawn or outdated
consent, a consent that is not separate where PIPL wants one, a minor's consent without a
guardian, a restricted member or a suppressed address all mean no.
"""

import hashlib
from datetime import date

from django.db import transaction
from django.utils import timezone
from modeltranslation.utils import build_localized_fieldname

from ..exceptions import (
    ConsentRequired,
    GuardianConsentRequired,
    NoticeMissing,
    NoticeOutdated,
    PurposeBasisMissing,
    PurposeRequired,
    UnknownPurpose,
)
from ..models import (
    MARKETING_CATEGORIES,
    ChangeType,
    CollectionMethod,
    ConsentAction,
    ConsentActor,
    ConsentEvent,
    ConsentEvidence,
    ConsentState,
    ConsentStatus,
    JurisdictionRule,
    Market,
    Member,
    MemberProfile,
    NoticeVersion,
    ProcessingPurpose,
    PurposeBasis,
    Regime,
)
from ..routers import residency_database
from ..selectors.catalog import content_languages
from .suppression import is_suppressed

# Decisions that end consent; a member may always make them, whatever their age.
_ENDING = {ConsentAction.WITHDRAWN, ConsentAction.REFUSED, ConsentAction.OBJECTED}
_STATUS_OF = {
    ConsentAction.GRANTED: ConsentStatus.GRANTED,
    ConsentAction.REFUSED: ConsentStatus.REFUSED,
    ConsentAction.WITHDRAWN: ConsentStatus.WITHDRAWN,
    ConsentAction.OBJECTED: ConsentStatus.OBJECTED,
}


# Profiles and age ----------------------------------------------------------------------------------


def profile_of(member: Member) -> MemberProfile | None:
    """The member's personal profile, read from their residency database."""
    region = member.market.residency_region
    return (
        MemberProfile.objects.using(residency_database(region)).filter(subject_id=member.subject_id).first()
    )


def save_profile(member: Member, **values) -> MemberProfile:
    """Create or update the member's profile in their residency database."""
    region = member.market.residency_region
    db = residency_database(region)
    with transaction.atomic(using=db):
        profile, _ = MemberProfile.objects.using(db).update_or_create(
            subject_id=member.subject_id, defaults={"region": region, **values}
        )
    return profile


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def consent_age(regime: str, country: str) -> int:
    """The digital-consent age of ``regime`` in ``country`` (the regime's default where not set)."""
    ages = dict(
        JurisdictionRule.objects.filter(regime=regime, country__in=[country or "", ""]).values_list(
            "country", "digital_consent_age"
        )
    )
    return ages.get(country or "", ages.get("", 16))


def is_minor(member: Member, *, profile: MemberProfile | None = None, today: date | None = None) -> bool:
    """Below the digital-consent age of any regime the member falls under (unknown age: not a minor)."""
    profile = profile if profile is not None else profile_of(member)
    if profile is None or profile.birth_date is None:
        return False
    today = today or timezone.localdate()
    country = profile.country.code if profile.country else _market_country(member.market)
    age = age_on(profile.birth_date, today)
    return any(age < consent_age(regime, country) for regime in member.market.regimes)


def _market_country(market: Market) -> str:
    countries = list(market.countries)
    return countries[0].code if len(countries) == 1 else ""


# Purposes and notices ------------------------------------------------------------------------------


def regimes_in_use() -> set[str]:
    """Regimes of the active markets: each purpose needs a basis under every one of them."""
    regimes: set[str] = set()
    for market_regimes in Market.objects.filter(is_active=True).values_list("regimes", flat=True):
        regimes.update(market_regimes)
    return regimes


def missing_bases(purpose: ProcessingPurpose) -> list[str]:
    """Regimes in use for which ``purpose`` has no lawful basis yet."""
    configured = set(purpose.bases.values_list("regime", flat=True))
    return sorted(regimes_in_use() - configured)


def activate_purpose(purpose: ProcessingPurpose) -> ProcessingPurpose:
    """Start processing for ``purpose``: every regime in use needs a basis, consent needs a notice."""
    missing = missing_bases(purpose)
    if missing:
        labels = ", ".join(str(Regime(code).label) for code in missing)
        raise PurposeBasisMissing(f"{PurposeBasisMissing.default_detail} ({labels})")
    for basis in purpose.bases.all():
        basis.full_clean()
    if purpose.bases.filter(lawful_basis="consent").exists() and current_notice(purpose) is None:
        raise NoticeMissing()
    ProcessingPurpose.objects.filter(pk=purpose.pk).update(is_active=True)
    purpose.is_active = True
    return purpose


def current_notice(purpose: ProcessingPurpose) -> NoticeVersion | None:
    """The latest published version of the purpose's notice."""
    return (
        NoticeVersion.objects.filter(purpose=purpose, published_at__isnull=False).order_by("-version").first()
    )


def notice_shown(notice: NoticeVersion, language: str | None, market: Market) -> tuple[str, str, str, str]:
    """(language, title, text, sha256) of the notice as a member of ``market`` reading ``language`` sees it.

    Title and text come from the same language, the first of the fallbacks that has both.
    """
    for code in content_languages(language, market):
        title = getattr(notice, build_localized_fieldname("title", code), "") or ""
        body = getattr(notice, build_localized_fieldname("body", code), "") or ""
        if title and body:
            return code, title, body, hashlib.sha256(f"{title}\n\n{body}".encode()).hexdigest()
    return (
        "",
        notice.title,
        notice.body,
        hashlib.sha256(f"{notice.title}\n\n{notice.body}".encode()).hexdigest(),
    )


def publish_notice(notice: NoticeVersion) -> NoticeVersion:
    """Publish ``notice``; a material change puts the consents given to older versions up for renewal."""
    with transaction.atomic():
        locked = NoticeVersion.objects.select_for_update().get(pk=notice.pk)
        if locked.published_at is not None:
            return locked
        now = timezone.now()
        NoticeVersion.objects.filter(pk=locked.pk).update(published_at=now)
        locked.published_at = now
        if locked.change_type == ChangeType.MATERIAL:
            ConsentState.objects.filter(purpose_id=locked.purpose_id, status=ConsentStatus.GRANTED).exclude(
                notice_version=locked
            ).update(status=ConsentStatus.RENEWAL_REQUIRED)
    return locked


# Decisions -----------------------------------------------------------------------------------------


def record_consent(
    member: Member,
    purpose_code: str,
    action: str,
    *,
    method: str,
    notice_version: int | None = None,
    separate: bool = True,
    actor: str = ConsentActor.MEMBER,
    operator=None,
    collection_point: str = "",
    request_id: str = "",
    ip_address: str | None = None,
    user_agent: str = "",
    language: str | None = None,
) -> ConsentState:
    """Record one decision about one purpose and return the member's consent state for it.

    ``notice_version`` is the version the member saw; a grant against an outdated version is
    refused. ``separate`` says the decision was made for this purpose alone. The same decision
    repeated for the same notice records nothing new.
    """
    action = ConsentAction(action)
    method = CollectionMethod(method)
    actor = ConsentActor(actor)
    purpose = ProcessingPurpose.objects.filter(code=purpose_code, is_active=True).first()
    if purpose is None:
        raise UnknownPurpose()
    if purpose.required_for_service and action in _ENDING:
        raise PurposeRequired()
    notice = current_notice(purpose)
    if action == ConsentAction.GRANTED and notice is not None and notice_version != notice.version:
        raise NoticeOutdated()
    if action == ConsentAction.GRANTED and actor == ConsentActor.MEMBER and _needs_guardian(member, purpose):
        raise GuardianConsentRequired()
    shown = notice_shown(notice, language or member.language, member.market) if notice else ("", "", "", "")
    with transaction.atomic():
        Member.objects.select_for_update().filter(pk=member.pk).first()
        state = ConsentState.objects.filter(member=member, purpose=purpose).first()
        if _same_decision(state, action, notice, actor, separate):
            return state
        event = ConsentEvent.objects.create(
            member=member,
            purpose=purpose,
            action=action,
            regimes=list(member.market.regimes),
            notice_version=notice,
            language=shown[0],
            text_sha256=shown[3],
            is_separate=separate,
            actor=actor,
            operator=operator,
            method=method,
            collection_point=collection_point[:100],
            request_id=request_id[:64],
        )
        state = _fold(state, event, member, purpose)
        state.save()
        if ip_address or user_agent:
            _keep_evidence(member, event, ip_address, user_agent)
    return state


def _same_decision(state: ConsentState | None, action: str, notice, actor: str, separate: bool) -> bool:
    """Whether the decision adds nothing to the state (a separate grant after a bundled one does)."""
    if state is None or state.status != _STATUS_OF[action]:
        return False
    return (
        state.notice_version_id == (notice.pk if notice else None)
        and state.by_guardian == (actor == ConsentActor.GUARDIAN)
        and (state.is_separate or not separate)
    )


def _fold(state: ConsentState | None, event: ConsentEvent, member, purpose) -> ConsentState:
    """The state after ``event``: the one rule both recording and rebuilding apply."""
    if state is None:
        state = ConsentState(member=member, purpose=purpose)
    state.status = _STATUS_OF[event.action]
    state.notice_version_id = event.notice_version_id
    state.by_guardian = event.action == ConsentAction.GRANTED and event.actor == ConsentActor.GUARDIAN
    state.is_separate = event.is_separate
    state.last_event = event
    state.decided_at = event.occurred_at
    return state


def _keep_evidence(member: Member, event: ConsentEvent, ip_address: str | None, user_agent: str) -> None:
    region = member.market.residency_region
    db = residency_database(region)
    with transaction.atomic(using=db):
        ConsentEvidence.objects.using(db).create(
            subject_id=member.subject_id,
            region=region,
            event_id=event.uuid,
            ip_address=ip_address or None,
            user_agent=(user_agent or "")[:500],
        )


def rebuild_consent_states(member: Member | None = None) -> int:
    """Recompute the current states from the events (all members, or one); returns states written."""
    events = ConsentEvent.objects.order_by("id").select_related("member", "purpose")
    if member is not None:
        events = events.filter(member=member)
    folded: dict[tuple[int, int], ConsentState] = {}
    for event in events.iterator(chunk_size=2000):
        key = (event.member_id, event.purpose_id)
        folded[key] = _fold(folded.get(key), event, event.member, event.purpose)
    latest_material = _latest_material_notices()
    with transaction.atomic():
        existing = (
            ConsentState.objects.all() if member is None else ConsentState.objects.filter(member=member)
        )
        ids = {(state.member_id, state.purpose_id): state.pk for state in existing}
        for key, state in folded.items():
            state.pk = ids.get(key)
            material = latest_material.get(state.purpose_id)
            if (
                state.status == ConsentStatus.GRANTED
                and material is not None
                and material[1] > _version_of(state.notice_version_id)
            ):
                state.status = ConsentStatus.RENEWAL_REQUIRED
            state.save()
    return len(folded)


def _latest_material_notices() -> dict[int, tuple[int, int]]:
    latest: dict[int, tuple[int, int]] = {}
    for pk, purpose_id, version in NoticeVersion.objects.filter(
        published_at__isnull=False, change_type=ChangeType.MATERIAL
    ).values_list("pk", "purpose_id", "version"):
        if purpose_id not in latest or version > latest[purpose_id][1]:
            latest[purpose_id] = (pk, version)
    return latest


def _version_of(notice_id: int | None) -> int:
    if notice_id is None:
        return 0
    return NoticeVersion.objects.filter(pk=notice_id).values_list("version", flat=True).first() or 0


# The check -----------------------------------------------------------------------------------------


def consent_bases(member: Member, purpose: ProcessingPurpose) -> list[PurposeBasis] | None:
    """The purpose's bases under the member's regimes, or None when one of them has none (fail closed)."""
    bases = {basis.regime: basis for basis in purpose.bases.all()}
    regimes = member.market.regimes
    if any(regime not in bases for regime in regimes):
        return None
    return [bases[regime] for regime in regimes]


def needs_consent(member: Member, purpose: ProcessingPurpose, bases: list[PurposeBasis]) -> bool:
    """Whether any regime of the member needs consent (a market under no regime: any optional purpose)."""
    if not member.market.regimes:
        return not purpose.required_for_service
    return any(basis.needs_consent for basis in bases)


def _needs_guardian(member: Member, purpose: ProcessingPurpose) -> bool:
    bases = consent_bases(member, purpose)
    return bases is not None and needs_consent(member, purpose, bases) and is_minor(member)


def has_consent(member: Member, purpose_code: str) -> bool:
    """Whether the program may process the member's data for ``purpose_code`` now."""
    if member.erased_at is not None:
        return False
    purpose = (
        ProcessingPurpose.objects.filter(code=purpose_code, is_active=True).prefetch_related("bases").first()
    )
    if purpose is None:
        return False
    if member.restricted_at is not None and not purpose.required_for_service:
        return False
    bases = consent_bases(member, purpose)
    if bases is None:
        return False
    state = ConsentState.objects.filter(member=member, purpose=purpose).select_related("last_event").first()
    if not needs_consent(member, purpose, bases):
        return state is None or state.status != ConsentStatus.OBJECTED or purpose.required_for_service
    if state is None or state.status != ConsentStatus.GRANTED:
        return False
    if any(basis.consent_kind == "separate" for basis in bases) and not state.is_separate:
        return False
    if not state.by_guardian and is_minor(member):
        return False
    return not (purpose.category in MARKETING_CATEGORIES and is_suppressed(member, state.last_event))


def require_consent(member: Member, purpose_code: str) -> None:
    """Raise ``consent_required`` unless ``has_consent``."""
    if not has_consent(member, purpose_code):
        raise ConsentRequired()
