"""What a member is told and has decided about each processing purpose, in their language.

The privacy center (pages and API) and the join form read these items. The cost is constant in
the number of purposes: the purposes with their bases, their current notices, the member's states
and their age are each read once.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from ..models import (
    ConsentKind,
    ConsentState,
    ConsentStatus,
    Market,
    Member,
    NoticeVersion,
    ProcessingPurpose,
    PurposeBasis,
    PurposeCategory,
)
from ..services.consent import consent_bases, is_minor, needs_consent, notice_shown
from .catalog import content_languages, localized

# The status of a purpose the member has never decided about.
NOT_ASKED = "not_asked"


@dataclass(frozen=True)
class NoticeText:
    """A notice version as a member reading a language sees it (``language`` "": the untranslated text)."""

    version: int
    title: str
    text: str
    language: str
    sha256: str


@dataclass(frozen=True)
class ConsentItem:
    """One active purpose as a member sees it: what it is, what they were told and what they decided."""

    code: str
    name: str
    description: str
    category: str
    required: bool  # needed to run the membership: shown, never asked
    needs_consent: bool  # a regime of the member asks for consent (no basis for one: asked, fail closed)
    separate: bool  # a regime wants a consent given for this purpose alone (PIPL)
    notice: NoticeText | None
    status: str  # a ConsentStatus, or NOT_ASKED
    decided_at: datetime | None
    by_guardian: bool
    guardian_needed: bool  # the member is a minor: only a parent or guardian may grant it

    @property
    def granted(self) -> bool:
        return self.status == ConsentStatus.GRANTED

    @property
    def decidable(self) -> bool:
        """The member decides about it: optional, and processed only with consent."""
        return self.needs_consent and not self.required

    @property
    def category_display(self) -> str | Promise:
        return PurposeCategory(self.category).label if self.category in PurposeCategory.values else ""

    @property
    def status_display(self) -> str | Promise:
        if self.status == NOT_ASKED:
            return _("not decided yet")
        return ConsentStatus(self.status).label


def consent_items(member: Member, language: str | None, *, minor: bool | None = None) -> list[ConsentItem]:
    """The active purposes in sort order with the member's decisions, texts in ``language``.

    ``minor``: whether the member is below a digital-consent age, when the caller already knows.
    """
    purposes = list(active_purposes())
    notices = current_notices(purposes)
    states = {state.purpose_id: state for state in ConsentState.objects.filter(member=member)}
    if minor is None:
        minor = is_minor(member)
    items = []
    for purpose in purposes:
        bases = consent_bases(member, purpose)
        asks = bases is None or needs_consent(member, purpose, bases)
        items.append(
            _item(
                purpose,
                notices.get(purpose.current_notice_id),
                member.market,
                language,
                asks=asks,
                separate=_separate(bases),
                state=states.get(purpose.pk),
                guardian_needed=asks and minor,
            )
        )
    return items


def join_items(market: Market, language: str | None) -> list[ConsentItem]:
    """The optional purposes a newcomer to ``market`` is asked about on the join form.

    Purposes that want a separate consent (PIPL) are left to the privacy center, where each is
    asked on its own; so are purposes that none of the market's regimes asks consent for.
    """
    purposes = [purpose for purpose in active_purposes() if not purpose.required_for_service]
    notices = current_notices(purposes)
    items = []
    for purpose in purposes:
        bases = _bases_under(market, purpose)
        if bases is None or _separate(bases):
            continue
        if market.regimes and not any(basis.needs_consent for basis in bases):
            continue
        items.append(
            _item(
                purpose,
                notices.get(purpose.current_notice_id),
                market,
                language,
                asks=True,
                separate=False,
                state=None,
                guardian_needed=False,
            )
        )
    return items


def active_purposes() -> QuerySet[ProcessingPurpose]:
    """Active purposes in sort order, with their bases and the id of their current notice."""
    latest = NoticeVersion.objects.filter(purpose=OuterRef("pk"), published_at__isnull=False).order_by(
        "-version"
    )
    return (
        ProcessingPurpose.objects.filter(is_active=True)
        .annotate(current_notice_id=Subquery(latest.values("pk")[:1]))
        .prefetch_related("bases")
        .order_by("sort_order", "code")
    )


def current_notices(purposes: list[ProcessingPurpose]) -> dict[int, NoticeVersion]:
    """The current notices of ``purposes`` (annotated by ``active_purposes``) by id, in one query."""
    ids = [purpose.current_notice_id for purpose in purposes if purpose.current_notice_id]
    return NoticeVersion.objects.in_bulk(ids) if ids else {}


def _bases_under(market: Market, purpose: ProcessingPurpose) -> list[PurposeBasis] | None:
    """The purpose's bases under the market's regimes, or None when one has none (like ``consent_bases``)."""
    bases = {basis.regime: basis for basis in purpose.bases.all()}
    if any(regime not in bases for regime in market.regimes):
        return None
    return [bases[regime] for regime in market.regimes]


def _separate(bases: list[PurposeBasis] | None) -> bool:
    return bases is not None and any(basis.consent_kind == ConsentKind.SEPARATE for basis in bases)


def _item(
    purpose: ProcessingPurpose,
    notice: NoticeVersion | None,
    market: Market,
    language: str | None,
    *,
    asks: bool,
    separate: bool,
    state: ConsentState | None,
    guardian_needed: bool,
) -> ConsentItem:
    languages = content_languages(language, market)
    return ConsentItem(
        code=purpose.code,
        name=localized(purpose, "name", languages) or purpose.name,
        description=localized(purpose, "description", languages),
        category=purpose.category,
        required=purpose.required_for_service,
        needs_consent=asks,
        separate=separate,
        notice=_notice_text(notice, language, market) if notice is not None else None,
        status=state.status if state is not None else NOT_ASKED,
        decided_at=state.decided_at if state is not None else None,
        by_guardian=state.by_guardian if state is not None else False,
        guardian_needed=guardian_needed,
    )


def _notice_text(notice: NoticeVersion, language: str | None, market: Market) -> NoticeText:
    shown_in, title, text, sha256 = notice_shown(notice, language, market)
    return NoticeText(version=notice.version, title=title, text=text, language=shown_in, sha256=sha256)
