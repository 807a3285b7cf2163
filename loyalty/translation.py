"""django-modeltranslation registrations: texts shown to members, one column per content language."""

from modeltranslation.translator import TranslationOptions, register

from .models import Challenge, EarnRule, Tier


@register(Tier)
class TierTranslation(TranslationOptions):
    fields = ("name", "description", "benefits")


@register(EarnRule)
class EarnRuleTranslation(TranslationOptions):
    fields = ("name",)


@register(Challenge)
class ChallengeTranslation(TranslationOptions):
    fields = ("name", "description", "badge_name")
