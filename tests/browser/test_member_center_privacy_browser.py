"""A shopper decides about consents in the privacy center, in a real headless Chromium."""

import pytest
from playwright.sync_api import expect

from loyalty.models import Member, NoticeVersion, ProcessingPurpose, PurposeBasis
from loyalty.services import activate_purpose, has_consent, open_request, publish_notice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PURPOSES = [
    # code, category, required; then (English, Arabic) pairs: name, notice title, notice text
    (
        "membership",
        "membership",
        True,
        ("Running your membership", "إدارة عضويتك"),
        ("How we run your membership", "كيف ندير عضويتك"),
        (
            "We keep your points, orders and rewards so that the program works.",
            "نحتفظ بنقاطك وطلباتك ومكافآتك حتى يعمل البرنامج.",
        ),
    ),
    (
        "marketing_email",
        "marketing_email",
        False,
        ("Newsletter by e-mail", "النشرة البريدية"),
        ("Offers and news by e-mail", "العروض والأخبار عبر البريد الإلكتروني"),
        (
            "About twice a month we e-mail you offers picked for your tier. Every e-mail has a link to stop.",
            "نرسل إليك مرتين في الشهر تقريبًا عروضًا مختارة لمستواك. كل رسالة تتضمن رابطًا لإيقافها.",
        ),
    ),
    (
        "birthday_rewards",
        "birthday_rewards",
        False,
        ("Birthday rewards", "مكافآت عيد الميلاد"),
        ("A present on your birthday", "هدية في عيد ميلادك"),
        (
            "We use your birth date to send you bonus points in your birthday month.",
            "نستخدم تاريخ ميلادك لنرسل إليك نقاطًا إضافية في شهر ميلادك.",
        ),
    ),
]


@pytest.fixture
def purposes(db):
    for order, (code, category, required, names, titles, texts) in enumerate(PURPOSES):
        purpose = ProcessingPurpose.objects.create(
            code=code,
            category=category,
            required_for_service=required,
            name_en=names[0],
            name_ar=names[1],
            sort_order=order,
        )
        basis = ("contract", "none") if required else ("consent", "opt_in")
        PurposeBasis.objects.create(
            purpose=purpose, regime="gdpr", lawful_basis=basis[0], consent_kind=basis[1]
        )
        publish_notice(
            NoticeVersion.objects.create(
                purpose=purpose,
                version=1,
                title_en=titles[0],
                title_ar=titles[1],
                body_en=texts[0],
                body_ar=texts[1],
            )
        )
        activate_purpose(purpose)


@pytest.fixture
def shopper(make_member, make_market, purposes, fund):
    germany = make_market("DE", "EUR", regimes=["gdpr"], countries=["DE"], residency_region="eu")
    member = make_member(market=germany)
    fund(member, 420)
    open_request(member, "access", channel="member_center")
    open_request(member, "rectification", channel="member_center", message="My name is misspelt.")
    return member


def test_a_shopper_grants_and_withdraws_a_consent_in_the_privacy_center(page, sign_in, shopper, screenshot):
    sign_in(shopper.user.username)
    page.get_by_test_id("privacy-link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Privacy center")
    newsletter = page.locator("#purpose-marketing_email")
    expect(newsletter.get_by_test_id("notice-title")).to_have_text("Offers and news by e-mail")
    expect(newsletter.get_by_test_id("consent-switch")).to_have_text("Off")
    expect(page.locator("#purpose-membership").get_by_role("button")).to_have_count(0)

    newsletter.get_by_role("button", name="Give consent").click()
    expect(page.get_by_test_id("message")).to_have_text(
        "Thank you: you agreed to “Newsletter by e-mail”. You can withdraw it here at any time."
    )
    expect(newsletter.get_by_test_id("consent-switch")).to_have_text("On")
    assert has_consent(shopper, "marketing_email")
    screenshot("privacy-center-en")

    newsletter.get_by_role("button", name="Withdraw consent").click()
    expect(page.get_by_test_id("message")).to_have_text(
        "You withdrew your consent to “Newsletter by e-mail”."
    )
    expect(newsletter.get_by_test_id("consent-switch")).to_have_text("Off")
    assert not has_consent(shopper, "marketing_email")


def test_the_privacy_center_reads_right_to_left_in_arabic(page, sign_in, shopper, screenshot):
    Member.objects.filter(pk=shopper.pk).update(language="ar")
    sign_in(shopper.user.username, next_url="/loyalty/privacy/")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    birthday = page.locator("#purpose-birthday_rewards")
    expect(birthday.get_by_test_id("notice-title")).to_have_text("هدية في عيد ميلادك")
    birthday.get_by_test_id("grant").click()
    expect(birthday.get_by_test_id("withdraw")).to_be_visible()
    expect(page.get_by_test_id("message")).to_have_text(
        "شكرًا لك: لقد وافقت على «مكافآت عيد الميلاد». يمكنك سحب موافقتك من هنا في أي وقت."
    )
    assert has_consent(shopper, "birthday_rewards")
    screenshot("privacy-center-ar")
    birthday.get_by_test_id("withdraw").click()
    expect(birthday.get_by_test_id("grant")).to_be_visible()
    assert not has_consent(shopper, "birthday_rewards")
