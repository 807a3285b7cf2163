import pytest

from loyalty.exceptions import AlreadyEnrolled, InvalidLanguage, UnknownMarket
from loyalty.models import Member, PointsAccount
from loyalty.services import enroll_member


def test_enrolment_creates_a_member_with_an_empty_account(make_user, market):
    member = enroll_member(make_user(), market=market)
    account = PointsAccount.objects.get(member=member)
    assert (account.available, account.pending, account.debt) == (0, 0, 0)
    assert member.language == "en"
    assert member.time_zone == "Europe/Berlin"


def test_member_number_is_public_and_not_the_primary_key(make_user, market):
    member = enroll_member(make_user(), market=market)
    assert len(member.number) == 12 and member.number.isdigit()
    assert member.number != str(member.pk)


def test_enrolling_twice_returns_the_first_member(make_user, market):
    user = make_user()
    first = enroll_member(user, market=market)
    assert enroll_member(user, market="EU") == first
    assert Member.objects.count() == 1


def test_enrolling_in_another_market_is_refused(make_user, market, make_market):
    user = make_user()
    enroll_member(user, market=market)
    with pytest.raises(AlreadyEnrolled):
        enroll_member(user, market=make_market("CN", "CNY"))


def test_inactive_or_unknown_market_is_refused(make_user, market):
    market.is_active = False
    market.save()
    with pytest.raises(UnknownMarket):
        enroll_member(make_user(), market=market)
    with pytest.raises(UnknownMarket):
        enroll_member(make_user(), market="NOPE")


def test_language_must_be_offered_by_the_host(make_user, market):
    with pytest.raises(InvalidLanguage):
        enroll_member(make_user(), market=market, language="tlh")
    assert enroll_member(make_user(), market=market, language="zh-hans").language == "zh-hans"


def test_deleting_the_host_user_keeps_the_membership_books(make_user, market):
    user = make_user()
    member = enroll_member(user, market=market)
    user.delete()
    member.refresh_from_db()
    assert member.user is None
    assert PointsAccount.objects.filter(member=member).exists()
