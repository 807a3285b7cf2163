"""django-modeltranslation registrations: texts shown to members, one column per content language."""

from modeltranslation.translator import TranslationOptions, register

from .models import Challenge, EarnRule, NoticeVersion, ProcessingPurpose, Reward, RewardCategory, Tier


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


@register(ProcessingPurpose)
class ProcessingPurposeTranslation(TranslationOptions):
    fields = ("name", "description")


@register(NoticeVersion)
class NoticeVersionTranslation(TranslationOptions):
    fields = ("title", "body")
