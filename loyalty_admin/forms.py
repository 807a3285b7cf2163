from django import forms
from django.contrib.admin import helpers
from django.utils.translation import gettext_lazy as _


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
