import django_filters
from django.utils.translation import gettext_lazy as _

from ..models import EntryType, LedgerEntry


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
