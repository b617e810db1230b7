import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from careops.catalogue import services as catalogue_services
from careops.catalogue.models import ReferentialVersion
from careops.compliance import services


def pdf(name="preuve.pdf", body=b"contenu"):
    return SimpleUploadedFile(name, b"%PDF-1.4\n" + body, "application/pdf")


@pytest.fixture
def d2(db):
    catalogue_services.load_default()
    return ReferentialVersion.objects.get(domain="D2", is_current=True)


@pytest.fixture
def assessment(org_tree, d2):
    return services.open_assessment(None, org_tree.ght, d2, candidacy_date=dt.date(2025, 10, 20))
