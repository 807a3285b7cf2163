import csv
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django import forms
from django.conf import settings
from django.contrib.admin import helpers
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from loyalty.exceptions import ArbitrageRisk, LoyaltyError
from loyalty.models import DataCategory, ProcessingPurpose, RejectionGround, RequestKind
from loyalty.money import is_known_currency, quantize_money


class AdjustPointsForm(forms.Form):
    """Asked between choosing members and applying the adjustment."""

    points = forms.IntegerField(
        label=_("Points"),
        help_text=_("Positive to credit, negative to debit. A debit cannot exceed the available balance."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=255,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown to the member in their points history."),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput)
    action = forms.CharField(widget=forms.HiddenInput, initial="adjust_points")
    select_across = forms.CharField(widget=forms.HiddenInput, initial="0", required=False)

    def clean_points(self):
        points = self.cleaned_data["points"]
        if points == 0:
            raise forms.ValidationError(_("Points must be a whole number other than zero."))
        return points

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("A reason is required."))
        return reason


SELECTED = helpers.ACTION_CHECKBOX_NAME


class ChangeMarketForm(forms.Form):
    """Asked between choosing a member and moving them to another market."""

    market = forms.ModelChoiceField(label=_("New market"), queryset=None)
    reason = forms.CharField(label=_("Reason"), max_length=255)
    action = forms.CharField(widget=forms.HiddenInput, initial="change_market")

    def __init__(self, *args, **kwargs):
        from loyalty.models import Market

        super().__init__(*args, **kwargs)
        self.fields["market"].queryset = Market.objects.filter(is_active=True)

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("A reason is required."))
        return reason


class DateTimeLocalInput(forms.DateTimeInput):
    """The browser's own date and time picker: no calendar script to serve."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class EmptyListFieldsForm(forms.ModelForm):
    """List fields (JSON) that staff clear are stored as ``[]``: the columns are NOT NULL."""

    empty_lists: tuple[str, ...] = ()

    def clean(self):
        data = super().clean()
        for name in self.empty_lists:
            if name in data and data[name] is None:
                data[name] = []
        return data


class TierForm(EmptyListFieldsForm):
    empty_lists = ("perks",)

    class Meta:
        widgets = {"badge_colour": forms.TextInput(attrs={"type": "color"})}


class EarnRuleForm(EmptyListFieldsForm):
    empty_lists = ("weekdays", "categories", "skus")


class ChallengeForm(forms.ModelForm):
    class Meta:
        widgets = {"badge_colour": forms.TextInput(attrs={"type": "color"})}


class GrantTierForm(forms.Form):
    """Asked between choosing members and granting them a tier."""

    tier = forms.ModelChoiceField(label=_("Tier"), queryset=None)
    until = forms.DateTimeField(label=_("Granted until"), widget=DateTimeLocalInput)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=255,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept in the member's tier history."),
    )
    action = forms.CharField(widget=forms.HiddenInput, initial="grant_tier")

    def __init__(self, *args, **kwargs):
        from loyalty.models import Tier

        super().__init__(*args, **kwargs)
        self.fields["tier"].queryset = Tier.objects.order_by("rank")
        self.fields["until"].help_text = _(
            "In the time zone %(time_zone)s. The member keeps at least this tier until then."
        ) % {"time_zone": timezone.get_current_timezone_name()}

    def clean_until(self):
        until = self.cleaned_data["until"]
        if until <= timezone.now():
            raise forms.ValidationError(_("The grant must end in the future."))
        return until

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("A reason is required."))
        return reason


class WallClockDateTimeField(forms.DateTimeField):
    """A date and time as written, without a time zone: the form says which zone it is in."""

    def to_python(self, value):
        moment = super().to_python(value)
        return timezone.make_naive(moment) if moment is not None and timezone.is_aware(moment) else moment


@dataclass(frozen=True)
class ParsedLine:
    sku: str
    category: str
    quantity: int
    amount: Decimal | None


def parse_order_lines(text: str) -> list[ParsedLine]:
    """Lines written as ``SKU,category,quantity,amount``; all but the SKU may be left empty."""
    parsed = []
    for number, row in enumerate(csv.reader(text.splitlines()), start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if len(cells) > 4:
            raise forms.ValidationError(
                _("Line %(number)d has more than four values: SKU,category,quantity,amount."),
                params={"number": number},
            )
        sku, category, quantity, amount = [*cells, "", "", ""][:4]
        if not sku:
            raise forms.ValidationError(_("Line %(number)d has no SKU."), params={"number": number})
        try:
            count = int(quantity) if quantity else 1
        except ValueError:
            raise forms.ValidationError(
                _("Line %(number)d: the quantity must be a whole number."), params={"number": number}
            ) from None
        try:
            total = Decimal(amount) if amount else None
        except InvalidOperation:
            total = Decimal("NaN")
        if total is not None and not total.is_finite():
            raise forms.ValidationError(
                _("Line %(number)d: the amount must be a number such as 19.90."), params={"number": number}
            )
        parsed.append(ParsedLine(sku, category, count, total))
    return parsed


class SimulateOrderForm(forms.Form):
    """An order to try against the earning configuration; nothing is recorded."""

    member = forms.CharField(label=_("Member number"), max_length=20)
    amount = forms.DecimalField(label=_("Order amount"), help_text=_("What the member pays for the order."))
    currency = forms.CharField(
        label=_("Currency"),
        max_length=3,
        widget=forms.TextInput(attrs={"list": "simulator-currencies", "size": 5, "autocomplete": "off"}),
        help_text=_("An ISO 4217 code, such as EUR, that the member's market accepts."),
    )
    lines = forms.CharField(
        label=_("Order lines"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60, "placeholder": "SHOE-42,shoes,1,89.90"}),
        help_text=_(
            "Optional, one per line: SKU,category,quantity,amount. The amount is the line total in the "
            "order's currency; category, quantity (1) and amount may be left empty."
        ),
    )
    placed_at = WallClockDateTimeField(
        label=_("Placed at"),
        required=False,
        widget=DateTimeLocalInput,
        help_text=_("In the time zone of the member's market. Empty: now."),
    )

    def clean_member(self):
        from loyalty.models import Member

        number = self.cleaned_data["member"].strip()
        member = Member.objects.select_related("market", "tier").filter(number=number).first()
        if member is None:
            raise forms.ValidationError(_("No member has this number."))
        return member

    def clean_currency(self):
        code = self.cleaned_data["currency"].strip().upper()
        if not is_known_currency(code):
            raise forms.ValidationError(
                _("%(code)s is not an ISO 4217 currency code."), params={"code": code}
            )
        return code

    def clean_lines(self):
        return parse_order_lines(self.cleaned_data["lines"])

    def clean(self):
        data = super().clean()
        member, currency = data.get("member"), data.get("currency")
        if member is not None and currency and currency not in member.market.currencies:
            self.add_error(
                "currency",
                _("The market %(market)s accepts %(currencies)s.")
                % {"market": member.market.code, "currencies": ", ".join(member.market.currencies)},
            )
        return data

    def order(self) -> tuple:
        """``(member, amount, lines, at)`` as ``simulate_order`` takes them, from valid data."""
        from loyalty.services import OrderLine

        data = self.cleaned_data
        member, currency = data["member"], data["currency"]
        lines = [
            OrderLine(
                sku=line.sku,
                quantity=line.quantity,
                category=line.category,
                amount=None if line.amount is None else Money(line.amount, currency),
            )
            for line in data["lines"]
        ]
        at = data["placed_at"]
        if at is not None:
            at = timezone.make_aware(at, zoneinfo.ZoneInfo(member.market.time_zone))
        return member, Money(data["amount"], currency), lines, at


class DateInput(forms.DateInput):
    """The browser's own date picker: no calendar script to serve."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class RedemptionReasonForm(forms.Form):
    """Asked between choosing redemptions and cancelling them."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=255,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept with the redemption and shown to the member with the returned points."),
    )
    action = forms.CharField(widget=forms.HiddenInput, initial="cancel_redemptions")

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("A reason is required."))
        return reason


class RewardOfferFormSet(forms.BaseInlineFormSet):
    """A reward's market offers, each checked as it would be saved: the model's own rules, a value in
    whole minor units of the market's currency, and a points price the market's point value allows."""

    def __init__(self, *args, **kwargs):
        from loyalty.models import Market

        super().__init__(*args, **kwargs)
        # A value is given in its market's currency, so only the markets' currencies are offered.
        currencies = sorted(set(Market.objects.values_list("default_currency", flat=True)))
        self.currency_choices = [(code, code) for code in currencies]
        for form in self.forms:
            self._prepare_value(form)

    @property
    def empty_form(self):
        form = super().empty_form
        self._prepare_value(form)
        return form

    def _prepare_value(self, form):
        # The page keeps the stock it showed, so a save applies only the change made on the page.
        form.fields["stock"].show_hidden_initial = True
        field = form.fields["value"]
        choices = list(self.currency_choices)
        value = form.instance.value
        if value is not None:
            # Stored with 4 decimals; shown as the currency writes it (5.00 EUR, 500 JPY).
            form.initial["value"] = quantize_money(value)
            if value.currency.code not in dict(choices):
                choices.append((value.currency.code, value.currency.code))
        field.fields[1].choices = choices
        field.widget.widgets[1].choices = choices

    def clean(self):
        super().clean()
        for form in self.forms:
            if form.errors or not form.cleaned_data or form.cleaned_data.get("DELETE"):
                continue
            self._check_offer(form)

    def save_existing(self, form, obj, commit=True):
        """Save an offer without writing back the stock the page was loaded with, since members may have
        redeemed units meanwhile: a stock edited on the page is applied as the change that was made."""
        from django.db.models import F
        from django.db.models.functions import Greatest

        from loyalty.models import RewardOffer

        fields = [field.name for field in obj._meta.concrete_fields if not field.primary_key]
        obj.save(update_fields=[name for name in fields if name != "stock"])
        shown, after = self._shown_stock(form), obj.stock
        if shown != after:
            stock = after if shown is None or after is None else Greatest(F("stock") + (after - shown), 0)
            RewardOffer.objects.filter(pk=obj.pk).update(stock=stock)
        obj.refresh_from_db(fields=["stock"])
        return obj

    @staticmethod
    def _shown_stock(form) -> int | None:
        """The stock the page showed when it was loaded (posted back as its hidden initial value)."""
        field = form.fields["stock"]
        name = form.add_initial_prefix("stock")
        if name not in form.data:
            return form.initial.get("stock")
        return field.to_python(field.hidden_widget().value_from_datadict(form.data, form.files, name))

    def _check_offer(self, form):
        from loyalty.selectors.arbitrage import check_reward_value

        offer = form.instance
        if offer.value is None:
            return
        rounded = quantize_money(offer.value)
        if rounded != offer.value:
            form.add_error(
                "value",
                _("%(amount)s has more decimals than %(currency)s allows: did you mean %(rounded)s?")
                % {
                    "amount": plain_decimal(offer.value.amount),
                    "currency": offer.value.currency.code,
                    "rounded": rounded.amount,
                },
            )
            return
        try:
            check_reward_value(offer.market, offer.points, offer.value)
        except ArbitrageRisk as error:
            form.add_error("points", str(error.detail))
        except LoyaltyError as error:
            form.add_error(None, str(error.detail))


def plain_decimal(value: Decimal) -> str:
    """A decimal as typed, without the zeros storage pads it with (5.0010 -> 5.001)."""
    return format(value.normalize(), "f")


def this_month() -> tuple[date, date]:
    """The first and last day of the current month in the site's time zone (TIME_ZONE)."""
    today = timezone.localdate(timezone=timezone.get_default_timezone())
    first = today.replace(day=1)
    return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


class ReportPeriodForm(forms.Form):
    """The days a report covers (donations, partner settlement); both included, in the site's time zone."""

    start = forms.DateField(label=_("From"), widget=DateInput)
    end = forms.DateField(label=_("To"), widget=DateInput)

    def __init__(self, query):
        first, last = this_month()
        data = {"start": first.isoformat(), "end": last.isoformat()}
        data.update({name: query[name] for name in data if query.get(name)})
        super().__init__(data)
        self.fields["end"].help_text = _("Both days included, in the time zone %(time_zone)s.") % {
            "time_zone": settings.TIME_ZONE
        }

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("The last day comes before the first day."))
        elif data.get("end") == date.max:
            self.add_error("end", _("Choose an earlier last day."))
        return data

    def period(self) -> tuple[datetime, datetime]:
        """The report's bounds as aware datetimes: the first day's start, the day after the last day."""
        zone = timezone.get_default_timezone()
        start, end = self.cleaned_data["start"], self.cleaned_data["end"] + timedelta(days=1)
        return (
            timezone.make_aware(datetime.combine(start, time.min), zone),
            timezone.make_aware(datetime.combine(end, time.min), zone),
        )


# The privacy console ------------------------------------------------------------------------------


class ProcessingPurposeForm(forms.ModelForm):
    """The purpose's data categories as checkboxes; the model keeps them as a JSON list of codes."""

    data_categories = forms.MultipleChoiceField(
        label=_("Data categories"),
        choices=DataCategory.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


class PrivacyActionForm(forms.Form):
    """Asked between choosing rows and running a privacy action on them; ``action`` names the action."""

    action = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, data=None, *, action: str):
        super().__init__(data, initial={"action": action})


class FulfilRequestForm(PrivacyActionForm):
    note = forms.CharField(
        label=_("Note"),
        max_length=255,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept in the request's history, e.g. what was corrected for a rectification."),
    )


class ExtendRequestForm(PrivacyActionForm):
    until = forms.DateField(
        label=_("New due date"),
        widget=DateInput,
        help_text=_("Each request keeps its time of day. GDPR allows two more months at most."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=255,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The member must be told why the answer takes longer."),
    )


class HoldRequestForm(PrivacyActionForm):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=255,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the request waits for, e.g. a proof of identity."),
    )


class RejectRequestForm(PrivacyActionForm):
    ground = forms.ChoiceField(label=_("Legal ground"), choices=[("", "---------"), *RejectionGround.choices])
    note = forms.CharField(
        label=_("Note"),
        max_length=255,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept in the request's history."),
    )


class GuardianConsentForm(PrivacyActionForm):
    purpose = forms.ModelChoiceField(label=_("Purpose"), queryset=ProcessingPurpose.objects.none())
    verification = forms.CharField(
        label=_("How the guardian was verified"),
        max_length=100,
        widget=forms.TextInput(attrs={"class": "vTextField"}),
        help_text=_("Kept with the consent as its collection point, e.g. “ID checked in store 12”."),
    )

    def __init__(self, data=None, *, action: str):
        super().__init__(data, action=action)
        self.fields["purpose"].queryset = ProcessingPurpose.objects.filter(is_active=True)


class OpenPrivacyRequestForm(PrivacyActionForm):
    kind = forms.ChoiceField(label=_("Request"), choices=RequestKind.choices)
    message = forms.CharField(
        label=_("What the member asked"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Stored with the member's personal data, in their residency region."),
    )
