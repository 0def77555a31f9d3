"""import-linter's contracts, generated from the installed services and the libs on disk, so a
new service is held to its boundaries the day it exists (`make lint` writes and runs them)."""

from __future__ import annotations

from pathlib import Path

from journey_local.services import SERVICES

ROOT = Path(__file__).resolve().parents[4]


def lib_packages() -> list[str]:
    return sorted(p.parent.name for p in ROOT.glob("libs/*/src/*/__init__.py"))


def service_packages() -> list[str]:
    return sorted(definition.name for definition in SERVICES)


def client_packages() -> list[str]:
    """Clients of the public APIs shipped here: the web app (web/src), when it exists."""
    return sorted(p.parent.name for p in ROOT.glob("web/src/*/__init__.py"))


def render(libs: list[str] | None = None, services: list[str] | None = None, clients: list[str] | None = None) -> str:
    """The contracts as an INI file for `lint-imports --config` (defaults: what is installed)."""
    libs = lib_packages() if libs is None else libs
    services = service_packages() if services is None else services
    clients = client_packages() if clients is None else clients

    def listed(names: list[str]) -> str:
        return "".join(f"\n    {name}" for name in names)

    return f"""[importlinter]
root_packages ={listed([*libs, "journey_local", *services, *clients])}

[importlinter:contract:services-independent]
name = Services never import each other (they talk through events), nor the web app (a client)
type = independence
modules ={listed([*services, *clients])}

[importlinter:contract:libs-below-services]
name = Libs never import a service, a client or the launcher
type = forbidden
source_modules ={listed(libs)}
forbidden_modules ={listed([*services, *clients, "journey_local"])}

[importlinter:contract:service-layers]
name = Inside a service: router -> service -> repository
type = layers
layers =
    (router)
    (service)
    (repository)
containers ={listed([f"{name}.*" for name in services])}
""" + (
        f"""
[importlinter:contract:clients-use-the-apis]
name = The web app is a client of the public APIs: no service package, no launcher
type = forbidden
source_modules ={listed(clients)}
forbidden_modules ={listed([*services, "journey_local"])}
"""
        if clients
        else ""
    )
