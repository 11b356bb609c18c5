"""Filter fields shared by the viewsets."""

import django_filters
from django import forms


class StrictBooleanField(forms.NullBooleanField):
    """true/false (or 1/0); anything else is a 400, not a filter silently dropped.

    Django's NullBooleanField reads "maybe" as "no value", so `?in_care=maybe`
    would answer the whole unfiltered list as if it were the filtered one.
    """

    # A plain text input: NullBooleanSelect would map "maybe" to None before us.
    widget = forms.TextInput
    TRUE = {"true", "True", "1"}
    FALSE = {"false", "False", "0"}

    def to_python(self, value):
        if value in (None, ""):
            return None
        if value is True or value in self.TRUE:
            return True
        if value is False or value in self.FALSE:
            return False
        raise forms.ValidationError("Must be true or false.", code="invalid")


class BooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField
