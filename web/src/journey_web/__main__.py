"""`python -m journey_web --port 8110`: the web app under uvicorn (started by the launcher)."""

from __future__ import annotations

import argparse

from journey_web.app import create_app
from journey_web.settings import WebSettings
from servicekit.logging import configure_logging
from servicekit.service import serve

DEFAULT_PORT = 8110


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="journey_web")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    settings = WebSettings()
    configure_logging("web", settings.log_level)
    serve(create_app(settings), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
