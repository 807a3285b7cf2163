"""Forms of the member-center pages."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .exceptions import ConfirmationRequired
from .models import RequestKind

MESSAGE_MAX_LENGTH = 5000


class JoinForm(forms.Form):
    """Joining: an optional referral code and a birth date, required where the market has a minimum age."""

    ref = forms.CharField(label=_("Referral code (optional)"), required=False)
    birth_date = forms.DateField(
        label=_("Birth date"),
        required=False,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )

    def __init__(self, *args, minimum_age: int | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.minimum_age = minimum_age

    def clean_birth_date(self):
        birth_date = self.cleaned_data.get("birth_date")
        if birth_date is None and self.minimum_age is not None:
            raise forms.ValidationError(
                _("Enter your birth date: members must be at least %(age)s years old."),
                params={"age": self.minimum_age},
                code="required",
            )
        if birth_date is not None and birth_date > timezone.localdate():
            raise forms.ValidationError(_("The birth date cannot be in the future."), code="future")
        return birth_date


class PrivacyRequestForm(forms.Form):
    """A data-subject request from the privacy center; erasure must be confirmed."""

    kind = forms.ChoiceField(label=_("What would you like?"), choices=RequestKind.choices)
    message = forms.CharField(
        label=_("Message (optional)"),
        required=False,
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    confirm_erasure = forms.BooleanField(required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == RequestKind.ERASURE and not cleaned.get("confirm_erasure"):
            self.add_error("confirm_erasure", str(ConfirmationRequired.default_detail))
        return cleaned
