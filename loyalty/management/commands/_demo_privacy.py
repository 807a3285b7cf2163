"""The demo's privacy program: purposes with their bases and notices, recipients and decisions."""

from datetime import date, timedelta

from loyalty import services
from loyalty.models import (
    DataSubjectRequest,
    NoticeVersion,
    ProcessingPurpose,
    PurposeBasis,
    Recipient,
    RetentionPolicy,
    Transfer,
)
from loyalty.services.consent import current_notice, save_profile

CONTRACT = ("contract", "none")
OPT_IN = ("consent", "opt_in")
SEPARATE = ("consent", "separate")
INTEREST = ("legitimate_interest", "none")

# code, category, bases per regime, data categories, texts {language: (name, notice title, notice text)}
PURPOSES = [
    (
        "membership",
        "membership",
        {"gdpr": CONTRACT, "pipl": CONTRACT, "lgpd": CONTRACT},
        ["account", "purchases"],
        {
            "en": (
                "Running your membership",
                "How we run your membership",
                "We keep your membership number, your points, orders, tier and rewards to run the "
                "program you joined. Your points history is kept for accounting for as long as the law "
                "requires, without your name once you leave.",
            ),
            "zh_hans": (
                "会员服务",
                "我们如何提供会员服务",
                "为履行您加入的会员计划，我们保存您的会员号、积分、订单、等级和奖励。"
                "您退出后，积分记录将在法律要求的期限内以不含姓名的形式保存。",
            ),
            "de": (
                "Ihre Mitgliedschaft",
                "Wie wir Ihre Mitgliedschaft führen",
                "Wir speichern Mitgliedsnummer, Punkte, Bestellungen, Stufe und Prämien, um das Programm "
                "zu führen, dem Sie beigetreten sind. Die Punktehistorie bewahren wir nach Ihrem Austritt "
                "ohne Ihren Namen so lange auf, wie das Gesetz es verlangt.",
            ),
        },
    ),
    (
        "marketing_email",
        "marketing_email",
        {"gdpr": OPT_IN, "pipl": OPT_IN, "lgpd": OPT_IN},
        ["contact", "preferences"],
        {
            "en": (
                "Offers by e-mail",
                "Offers by e-mail",
                "With your consent we e-mail you offers and member news, at most weekly. Every e-mail "
                "has a one-click unsubscribe link, and you can withdraw here at any time.",
            ),
            "zh_hans": (
                "电子邮件优惠",
                "通过电子邮件发送优惠",
                "经您同意，我们每周最多一次通过电子邮件向您发送优惠和会员资讯。"
                "每封邮件都有一键退订链接，您也可以随时在此撤回同意。",
            ),
            "de": (
                "Angebote per E-Mail",
                "Angebote per E-Mail",
                "Mit Ihrer Einwilligung senden wir Ihnen höchstens wöchentlich Angebote und Neuigkeiten. "
                "Jede E-Mail enthält einen Abmeldelink; Sie können hier jederzeit widerrufen.",
            ),
        },
    ),
    (
        "birthday_rewards",
        "birthday_rewards",
        {"gdpr": OPT_IN, "pipl": OPT_IN, "lgpd": OPT_IN},
        ["birth_date"],
        {
            "en": (
                "Birthday gift",
                "A gift on your birthday",
                "If you give us your birth date and agree, we add bonus points on your birthday. We use "
                "the date for nothing else.",
            ),
            "zh_hans": (
                "生日礼",
                "生日礼物",
                "如果您提供生日并同意，我们会在您生日当天赠送奖励积分。该日期不会用于其他用途。",
            ),
            "de": (
                "Geburtstagsgeschenk",
                "Ein Geschenk zum Geburtstag",
                "Wenn Sie uns Ihr Geburtsdatum nennen und zustimmen, schreiben wir Ihnen an Ihrem "
                "Geburtstag Bonuspunkte gut. Für nichts anderes nutzen wir das Datum.",
            ),
        },
    ),
    (
        "personalised_offers",
        "personalised_offers",
        {"gdpr": INTEREST, "pipl": OPT_IN, "lgpd": INTEREST},
        ["purchases", "preferences"],
        {
            "en": (
                "Offers chosen for you",
                "Offers chosen from what you buy",
                "We pick rewards and offers from your purchases. You can object at any time; you then "
                "see the same catalog as everyone else.",
            ),
            "zh_hans": (
                "个性化推荐",
                "根据您的购买推荐优惠",
                "经您同意，我们根据您的购买记录推荐奖励和优惠。您可以随时撤回，之后将看到与其他人相同的目录。",
            ),
            "de": (
                "Für Sie ausgewählte Angebote",
                "Angebote auf Grundlage Ihrer Einkäufe",
                "Wir wählen Prämien und Angebote anhand Ihrer Einkäufe aus. Sie können jederzeit "
                "widersprechen; dann sehen Sie denselben Katalog wie alle anderen.",
            ),
        },
    ),
    (
        "cross_border_transfer",
        "cross_border_transfer",
        {"gdpr": CONTRACT, "pipl": SEPARATE, "lgpd": CONTRACT},
        ["account", "purchases"],
        {
            "en": (
                "Support from our team in Germany",
                "Sending your membership data to Germany",
                "Our customer service team in Berlin (Demo Shop GmbH, privacy@example.com) can see your "
                "membership number, points and orders to answer your questions. Data is sent under the "
                "standard contract for personal information export.",
            ),
            "zh_hans": (
                "德国团队的客户服务",
                "将您的会员数据传输至德国",
                "我们位于柏林的客服团队（Demo Shop GmbH，privacy@example.com）"
                "可查看您的会员号、积分和订单以回答您的问题。数据依据个人信息出境标准合同传输。",
            ),
            "de": (
                "Kundendienst in Deutschland",
                "Übermittlung Ihrer Mitgliedsdaten nach Deutschland",
                "Unser Kundendienst in Berlin (Demo Shop GmbH, privacy@example.com) sieht Mitgliedsnummer, "
                "Punkte und Bestellungen, um Ihre Fragen zu beantworten.",
            ),
        },
    ),
]


def seed_privacy() -> None:
    """Purposes, bases, published notices and a recipient abroad; idempotent."""
    crm, _created = Recipient.objects.get_or_create(
        name="Demo Shop GmbH customer service",
        defaults={"role": "controller", "country": "DE", "contact": "privacy@example.com"},
    )
    Transfer.objects.get_or_create(
        recipient=crm,
        regime="pipl",
        defaults={"mechanism": "pipl_contract", "reference": "CAC filing 2026-017"},
    )
    inactive = RetentionPolicy.objects.filter(category="inactive_members").first()
    for order, (code, category, bases, data, texts) in enumerate(PURPOSES):
        names = {f"name_{language}": name for language, (name, _title, _text) in texts.items()}
        purpose, created = ProcessingPurpose.objects.get_or_create(
            code=code,
            defaults={
                "category": category,
                "data_categories": data,
                "required_for_service": category == "membership",
                "sort_order": order,
                "retention": inactive,
                **names,
            },
        )
        if not created:
            continue
        for regime, (basis, kind) in bases.items():
            PurposeBasis.objects.create(purpose=purpose, regime=regime, lawful_basis=basis, consent_kind=kind)
        notice = NoticeVersion.objects.create(
            purpose=purpose,
            version=1,
            **{f"title_{language}": title for language, (_name, title, _text) in texts.items()},
            **{f"body_{language}": text for language, (_name, _title, text) in texts.items()},
        )
        services.publish_notice(notice)
        if code == "cross_border_transfer":
            purpose.recipients.add(crm)
        services.activate_purpose(purpose)


def seed_decisions(users: dict, now) -> None:
    """Alice consents to e-mail and her birthday gift and asked for her data; Li Wei for the transfer."""
    alice = users["alice"].loyalty_member
    save_profile(alice, birth_date=date(1990, now.month, min(now.day, 28)), country="DE")
    for code in ("marketing_email", "birthday_rewards"):
        version = current_notice(ProcessingPurpose.objects.get(code=code)).version
        services.record_consent(alice, code, "granted", method="web", notice_version=version, separate=True)
    li_wei = users["li.wei"].loyalty_member
    save_profile(li_wei, country="CN")
    transfer = ProcessingPurpose.objects.get(code="cross_border_transfer")
    services.record_consent(
        li_wei, transfer.code, "granted", method="app", notice_version=current_notice(transfer).version
    )
    if not DataSubjectRequest.objects.filter(member=alice, kind="access").exists():
        services.open_request(alice, "access", channel="member_center")
    if not DataSubjectRequest.objects.filter(kind="rectification").exists():
        services.open_request(
            users["ana"].loyalty_member,
            "rectification",
            channel="member_center",
            message="Meu sobrenome está escrito errado.",
            at=now - timedelta(days=20),
        )
