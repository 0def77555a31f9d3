"""The base of every event payload: a payload class knows its own subject and schema version, so
producers write `emit(db, Payload(...))` and consumers subscribe with `on(Payload, handler)`."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class EventPayload(BaseModel):
    """`data` of one event type. Subclasses set `SUBJECT` (`journey.<service>.<entity>.<verb>`,
    past tense) and bump `VERSION` whenever the fields change. A field added in a new version has
    a default, so consumers still read the events of earlier versions the streams keep; a field
    that changes meaning or goes away breaks that, and needs a new subject instead."""

    model_config = ConfigDict(frozen=True)

    SUBJECT: ClassVar[str]
    VERSION: ClassVar[int] = 1

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        subject = cls.__dict__.get("SUBJECT")
        if subject is not None:
            parts = subject.split(".")
            if len(parts) != 4 or parts[0] != "journey" or not all(parts):
                raise ValueError(f"{cls.__name__}.SUBJECT must be journey.<service>.<entity>.<verb>, not {subject!r}")

    @classmethod
    def service(cls) -> str:
        """The producing service, which is also the schema of its outbox and the name of its stream."""
        return cls.SUBJECT.split(".")[1]


def all_payloads() -> list[type[EventPayload]]:
    """Every payload class of every module in `contracts`, ordered by subject."""
    import contracts

    for module in pkgutil.iter_modules(contracts.__path__):
        importlib.import_module(f"contracts.{module.name}")
    found: list[type[EventPayload]] = []
    pending = list(EventPayload.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if "SUBJECT" in cls.__dict__ and cls.__module__.startswith("contracts."):
            found.append(cls)  # only the published contracts, not a test's own payloads
    return sorted(found, key=lambda c: c.SUBJECT)
