from tests.api.conftest import evidence_form


def test_smoke(role_users, world, api):
    admin = api(role_users["administrator"])
    r = admin.get("/api/organisations/")
    print(r.status_code, r.json()["count"])
    r = admin.get(f"/api/organisations/{world.evidence['ght'].organisation_id}")
    print(r.json())
    r = admin.get("/api/referential/versions")
    print(r.json())
    vid = r.json()["items"][0]["id"]
    print(admin.get(f"/api/referential/versions/{vid}").json())
    print(admin.get("/api/assessments").json()["items"][0])
    aid = world.assessments["ght"].pk
    print(admin.get(f"/api/assessments/{aid}").json())
    print(admin.get("/api/evidence").json()["count"])
    print(admin.get(f"/api/evidence/{world.evidence['ght'].pk}").json())
    f = world.files["ght"]
    r = admin.get(f"/api/files/{f.pk}")
    print(r.status_code, r.headers, b"".join(r.streaming_content)[:20])
    r = admin.post_form(
        "/api/evidence",
        evidence_form(
            world.evidence["ej_b"].organisation,
            item_codes=["d2.p1", "D2.O1.A,D2.O1.B"],
            entities=[],
        ),
    )
    print(r.status_code, r.content.decode())
    r = admin.post_form(
        "/api/evidence", evidence_form(world.evidence["ej_b"].organisation, files=[])
    )
    print(r.status_code, r.content.decode())
    print(admin.get("/api/system/me").json())
    assert 0
