"""What an API does once started: the objects built at startup leave the collector's generations."""

from __future__ import annotations

import gc

from fastapi.testclient import TestClient

from servicekit.app import create_app
from servicekit.settings import ServiceSettings


def test_an_apps_startup_objects_are_frozen_out_of_the_collectors_generations() -> None:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    app = create_app(ServiceSettings(service_name="frozen", environment="test"), [])
    try:
        with TestClient(app):  # runs the lifespan: the engine and the direct pool are built
            assert gc.get_freeze_count() > 10_000  # the modules and the app, at least
    finally:
        gc.unfreeze()
