from django import forms
from django.utils.translation import gettext_lazy as _

from careops.tenancy.choices import ALLOWED_CHILDREN
from careops.tenancy.models import Organisation


class OrganisationForm(forms.ModelForm):
    """Create or edit a node under a given parent (the kind must fit the parent)."""

    class Meta:
        model = Organisation
        fields = [
            "kind",
            "name",
            "finess",
            "finess_category",
            "category",
            "activity_weight",
            "activity_unit",
        ]
        help_texts = {
            "finess": _("9 caractères : département, numéro d'ordre, clé de contrôle."),
            "activity_weight": _(
                "Part de l'activité combinée du candidat (pour la règle des 66 %)."
            ),
        }

    def __init__(self, *args, parent=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.parent = parent if self.instance.pk is None else self.instance.parent
        allowed = ALLOWED_CHILDREN.get(parent.kind if parent else "", set())
        if self.instance.pk is None:
            self.fields["kind"].choices = [
                c for c in self.fields["kind"].choices if c[0] in allowed
            ]
        else:
            self.fields["kind"].disabled = True
