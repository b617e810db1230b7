"""Base classes of every careops form: typed date inputs that round-trip unchanged.

A browser's ``<input type="date">`` only accepts an ISO value ("2025-10-20"); Django renders a
date with the active locale's first input format ("20/10/2025" in French), which the browser
drops, so the field shows empty and saving the form untouched clears the date. Every form of
careops derives from :class:`Form` or :class:`ModelForm`, whose mixin gives each date (and
date-time) field the ISO widget below, whatever widget the form declared.

The mixin also keeps every whole number within what a database column holds: a number field
without a maximum, or a choice of objects by id, given « 99999999999999999999 » made SQLite raise
OverflowError (a 500) where PostgreSQL would have refused the value; both now answer the
field's French error.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
ISO_DATE = "%Y-%m-%d"
ISO_DATETIME = "%Y-%m-%dT%H:%M"


class DateInput(forms.DateInput):
    """``<input type="date">`` rendered in ISO, the only value a browser's date picker shows."""

    input_type = "date"

    def __init__(self, attrs=None, format=None):
        attrs = {k: v for k, v in (attrs or {}).items() if k != "type"}
        super().__init__(attrs, format=ISO_DATE)


class DateTimeInput(forms.DateTimeInput):
    """``<input type="datetime-local">`` rendered in the ISO form the browser expects."""

    input_type = "datetime-local"

    def __init__(self, attrs=None, format=None):
        attrs = {k: v for k, v in (attrs or {}).items() if k != "type"}
        super().__init__(attrs, format=ISO_DATETIME)


class DateField(forms.DateField):
    """A date field with the ISO date input (it still reads "20/10/2025" typed by hand)."""

    widget = DateInput


def iso_widgets(form: forms.BaseForm) -> None:
    """Give every date and date-time field of a form the ISO input (keeping its attributes)."""
    for field in form.fields.values():
        if isinstance(field, forms.DateTimeField):
            if not isinstance(field.widget, DateTimeInput | forms.HiddenInput):
                field.widget = DateTimeInput(attrs=field.widget.attrs)
        elif isinstance(field, forms.DateField):
            if not isinstance(field.widget, DateInput | forms.HiddenInput):
                field.widget = DateInput(attrs=field.widget.attrs)


def preselect_single(form: forms.BaseForm, name: str = "organisation") -> None:
    """A choice among a single organisation is made for the user: the field starts on it,
    without the empty « --------- » (a structure's RSSI had to pick their only structure, and
    the form refused « Ce champ est obligatoire » when they did not)."""
    field = form.fields[name]
    found = list(field.queryset[:2])
    if len(found) == 1 and field.required:
        field.initial = found[0].pk
        field.empty_label = None


def _out_of_range(value) -> bool:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return False  # not a number: the field's own cleaning says so
    return not INT64_MIN <= number <= INT64_MAX


def _bounded_choice_clean(field: forms.ModelChoiceField):
    """``field.clean`` refusing an id no integer key can hold, before any query is run."""
    clean = field.clean

    def bounded(value):
        model = field.queryset.model  # read now: forms often set the queryset after __init__
        key = model._meta.get_field(field.to_field_name) if field.to_field_name else model._meta.pk
        if not isinstance(key, models.IntegerField | models.AutoField):
            return clean(value)
        for item in value if isinstance(value, list | tuple) else [value]:
            if _out_of_range(item):
                raise ValidationError(
                    field.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": item},
                )
        return clean(value)

    return bounded


def bounded_numbers(form: forms.BaseForm) -> None:
    """Keep whole numbers and object ids of a form within a 64-bit integer column."""
    for field in form.fields.values():
        if isinstance(field, forms.IntegerField):
            if field.max_value is None:
                field.validators.append(MaxValueValidator(INT64_MAX))
            if field.min_value is None:
                field.validators.append(MinValueValidator(INT64_MIN))
        elif isinstance(field, forms.ModelChoiceField):
            field.clean = _bounded_choice_clean(field)


class CareopsFormMixin:
    """Shared behaviour of every careops form (see the module docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        iso_widgets(self)
        bounded_numbers(self)


class Form(CareopsFormMixin, forms.Form):
    """Base of every plain careops form."""


class ModelForm(CareopsFormMixin, forms.ModelForm):
    """Base of every careops model form."""
