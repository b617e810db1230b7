"""Outside test finding: the review form's exposure file was opened as a server path when its JSON
was a string ("/etc/passwd"), and a JSON list gave a 500. Only a JSON object is read."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from careops.remote_access.models import Review
from tests.conftest import PASSWORD
from tests.remote_access.conftest import scene  # noqa: F401 - the remote-access scene fixture


@pytest.mark.parametrize(
    "content",
    [b'"/etc/hostname"', b'"/nonexistent/x"', b"[1, 2, 3]", b'{"hosts": [1], "findings": []}'],
)
def test_exposure_upload_is_never_a_server_path(client, scene, content):  # noqa: F811
    assert client.login(username=scene.rssi.username, password=PASSWORD)
    response = client.post(
        "/acces-distants/revues/nouvelle/",
        {
            "organisation": scene.tree.ej_a.pk,
            "exposure": SimpleUploadedFile("scan.json", content, "application/json"),
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "No such file" not in page and "Is a directory" not in page
    assert "objet JSON" in page or "listes d&#x27;objets" in page
    assert not Review.objects.exists()
