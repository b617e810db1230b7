def test_dd(settings):
    import os

    print("HUEY", settings.HUEY, settings.EMAIL_BACKEND, os.environ.get("CAREOPS_QUEUE_URL"))
    assert 0
