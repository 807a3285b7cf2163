"""Redeeming rewards: points, stock, limits, idempotency, cancellation, use and expiry."""

from datetime import timedelta

import pytest
from django.utils import timezone

from loyalty.exceptions import InsufficientPoints
from loyalty.models import RedemptionStatus
from loyalty.services import cancel_redemption, redeem_reward
from tests.helpers import account_of, assert_books_balance


@pytest.mark.django_db
def test_smoke(member, make_reward, fund):
    reward = make_reward(stock=2)
    fund(member, 1200)
    first = redeem_reward(member, reward, idempotency_key="k1")
    assert first.status == RedemptionStatus.ISSUED
    again = redeem_reward(member, reward, idempotency_key="k1")
    assert again.pk == first.pk
    redeem_reward(member, reward, idempotency_key="k2")
    assert account_of(member).available == 200
    with pytest.raises(InsufficientPoints):
        redeem_reward(member, reward, idempotency_key="k3")
    cancel_redemption(first, reason="changed my mind")
    cancel_redemption(first, reason="changed my mind")
    assert account_of(member).available == 700
    assert_books_balance()
    print(first.code, first.valid_until - timezone.now() > timedelta(days=29))
