"""Filter fields shared by the viewsets."""

import django_filters
from django import forms
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import serializers


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


BLANK = "Must not be blank: leave the parameter out instead."


def _blank_refused(query_params, fields: dict) -> dict:
    """{name: [BLANK]} for each parameter given as `?name=` whose field is not free text."""
    return {
        name: [BLANK] for name, free in fields.items() if not free and query_params.get(name) == ""
    }


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter's backend, except that `?site=` (a blank id, choice, boolean or
    number) is a 400 naming the parameter. django-filter reads a blank value as "not
    given", so `?registered_site=` answered the whole list as if it had been filtered."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            fields = {
                name: issubclass(f.field_class, forms.CharField)
                and not issubclass(f.field_class, forms.UUIDField)
                for name, f in filterset.filters.items()
            }
            blank = _blank_refused(request.query_params, fields)
            if blank:
                raise serializers.ValidationError(blank)
        return filterset


class QuerySerializer(serializers.Serializer):
    """The parameters of a query string. DRF reads a form's blank `?site=` of an
    optional field as absent; here it is a 400 naming the parameter, unless the field
    takes free text that may be blank."""

    def to_internal_value(self, data):
        fields = {name: getattr(f, "allow_blank", False) for name, f in self.fields.items()}
        blank = _blank_refused(data, fields)
        if blank:
            raise serializers.ValidationError(blank)
        return super().to_internal_value(data)
