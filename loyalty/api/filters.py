"""Filters of the member API and the member-center pages (one FilterSet per list, shared by both)."""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from ..exceptions import InvalidFilter
from ..models import (
    EntryType,
    LedgerEntry,
    Member,
    Redemption,
    RedemptionStatus,
    RewardCategory,
    RewardOffer,
    RewardType,
)
from ..selectors.catalog import ORDERINGS, content_languages, localized


class LedgerEntryFilter(django_filters.FilterSet):
    type = django_filters.MultipleChoiceFilter(
        field_name="entry_type", choices=EntryType.choices, label=_("type")
    )
    created_after = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", label=_("from")
    )
    created_before = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", label=_("until")
    )

    class Meta:
        model = LedgerEntry
        fields = ["type", "created_after", "created_before"]


class FlagField(forms.NullBooleanField):
    """true/false (or 1/0) from the API, "on" from a checkbox; anything else is an error, not ignored."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        if value in (True, "true", "True", "1", "on"):
            return True
        if value in (False, "false", "False", "0", "off"):
            return False
        raise ValidationError(_("Enter true or false."), code="invalid")

    def validate(self, value):
        """Unset is allowed: it means no filter."""


class FlagCheckbox(forms.CheckboxInput):
    """A checkbox that passes the submitted text on, so that FlagField can refuse what it does not know."""

    def __init__(self, attrs=None):
        super().__init__(attrs, check_test=lambda value: value in (True, "true", "True", "1", "on"))

    def value_from_datadict(self, data, files, name):
        return data.get(name)


class FlagFilter(django_filters.BooleanFilter):
    field_class = FlagField


class WholeNumberFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class CategoryField(forms.ModelChoiceField):
    """Category choices named in the member's language, with the catalog's fallbacks."""

    languages: tuple[str, ...] = ()

    def label_from_instance(self, obj: RewardCategory) -> str:
        return localized(obj, "name", self.languages)


class CategoryFilter(django_filters.ModelChoiceFilter):
    field_class = CategoryField


ORDERING_LABELS = {
    "featured": _("Featured"),
    "points": _("Fewest points first"),
    "-points": _("Most points first"),
    "newest": _("Newest first"),
}
# In the selector's order; an ordering added there without a label here fails at import.
ORDERING_CHOICES = [(code, ORDERING_LABELS[code]) for code in ORDERINGS]


class CatalogFilter(django_filters.FilterSet):
    """The member's catalog: ``queryset`` is ``visible_offers(member)``; ``available`` their spendable points.

    ``category`` offers only the categories of the offers the member can see.
    """

    category = CategoryFilter(
        field_name="reward__category",
        to_field_name="code",
        queryset=RewardCategory.objects.none(),
        label=_("Category"),
        empty_label=_("All categories"),
    )
    type = django_filters.ChoiceFilter(
        field_name="reward__reward_type",
        choices=RewardType.choices,
        label=_("Type"),
        empty_label=_("All types"),
    )
    max_points = WholeNumberFilter(
        field_name="points", lookup_expr="lte", label=_("At most (points)"), min_value=1
    )
    affordable = FlagFilter(
        method="filter_affordable", label=_("Only what I can afford"), widget=FlagCheckbox
    )
    ordering = django_filters.ChoiceFilter(
        choices=ORDERING_CHOICES, method="filter_ordering", label=_("Sort by"), empty_label=None
    )

    class Meta:
        model = RewardOffer
        fields = ["category", "type", "max_points", "affordable", "ordering"]

    def __init__(self, data=None, queryset=None, *, member: Member, available: int, **kwargs) -> None:
        super().__init__(data, queryset, **kwargs)
        self.available = available
        self.filters["category"].queryset = RewardCategory.objects.filter(
            pk__in=self.queryset.order_by().values("reward__category_id")
        )
        self.form.fields["category"].languages = tuple(
            content_languages(translation.get_language(), member.market)
        )

    def filter_affordable(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.filter(points__lte=self.available) if value else queryset

    def filter_ordering(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.order_by(*ORDERINGS[value])


class RedemptionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=RedemptionStatus.choices, label=_("Status"))

    class Meta:
        model = Redemption
        fields = ["status"]


def filtered(filterset: django_filters.FilterSet) -> QuerySet:
    """The filtered queryset, or ``invalid_filter`` naming each bad parameter and what is wrong with it."""
    if not filterset.is_valid():
        problems = "; ".join(
            f"{name}: {' '.join(str(message) for message in messages)}"
            for name, messages in filterset.errors.items()
        )
        raise InvalidFilter(problems)
    return filterset.qs
