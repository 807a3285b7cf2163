"""django-modeltranslation registrations: texts shown to members, one column per content language."""

from modeltranslation.translator import TranslationOptions, register

from .models import Challenge, EarnRule, Reward, RewardCategory, Tier


@register(Tier)
class TierTranslation(TranslationOptions):
    fields = ("name", "description", "benefits")


@register(EarnRule)
class EarnRuleTranslation(TranslationOptions):
    fields = ("name",)


@register(Challenge)
class ChallengeTranslation(TranslationOptions):
    fields = ("name", "description", "badge_name")


@register(Reward)
class RewardTranslation(TranslationOptions):
    fields = ("name", "description", "terms")


@register(RewardCategory)
class RewardCategoryTranslation(TranslationOptions):
    fields = ("name",)
