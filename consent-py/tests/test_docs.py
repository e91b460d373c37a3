"""Every public function and method of the package says what it raises: a ``Raises:``
section in its docstring (``help()`` and IDEs show it), each entry naming exceptions
that exist — the :class:`ConsentError` subclasses of ``consent_ledger`` or built-ins —
or ``nothing``. A new public callable without one fails here, as does an entry naming
an exception that was renamed or never existed."""

from __future__ import annotations

import builtins
import dataclasses
import inspect
import re
from typing import Any, Callable, Dict, Iterator, List, Tuple

import pytest

import consent_ledger

_ENTRY = re.compile(r"^(?P<names>[A-Za-z][\w.]*(?:, [A-Za-z][\w.]*)*): \S")


def _public_callables() -> Iterator[Tuple[str, Callable[..., Any]]]:
    """Every public function of ``consent_ledger.__all__``, and every public method of
    its classes defined in the package (inherited ones under each class that offers
    them), with the constructors the package writes itself."""
    seen = set()
    for name in consent_ledger.__all__:
        obj = getattr(consent_ledger, name)
        if inspect.isclass(obj):
            if issubclass(obj, BaseException):
                continue
            for owner in obj.__mro__:
                if not owner.__module__.startswith("consent_ledger"):
                    continue
                for attr, raw in vars(owner).items():
                    if isinstance(raw, property) or (attr.startswith("_") and attr != "__init__"):
                        continue
                    if attr == "__init__" and (dataclasses.is_dataclass(obj) or raw.__doc__ is None):
                        continue  # written by dataclasses, or object's
                    if attr in getattr(obj, "__members__", {}):
                        continue  # an enum member
                    member = getattr(obj, attr)
                    if not callable(member) or inspect.isclass(member):
                        continue
                    key = (owner, attr)
                    if key not in seen:
                        seen.add(key)
                        yield f"{owner.__name__}.{attr}", member
        elif inspect.isfunction(obj) or inspect.isbuiltin(obj):
            yield name, obj


def _raises_section(doc: str) -> List[str]:
    """The entries of the docstring's ``Raises:`` section (empty when it has none)."""
    lines = doc.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == "Raises:":
            indent = len(line) - len(line.lstrip())
            entries = []
            for entry in lines[i + 1:]:
                if not entry.strip():
                    break
                depth = len(entry) - len(entry.lstrip())
                if depth <= indent:
                    break
                if depth == indent + 4:
                    entries.append(entry.strip())
                elif entries:  # a continuation line
                    entries[-1] += " " + entry.strip()
            return entries
    return []


def _exception(name: str) -> bool:
    found = getattr(consent_ledger, name, None) or getattr(builtins, name, None)
    return inspect.isclass(found) and issubclass(found, BaseException)


CALLABLES: Dict[str, Callable[..., Any]] = dict(_public_callables())


def test_the_walk_finds_the_api() -> None:
    # A walk that finds nothing would pass every check below.
    for name in ("Ledger.__init__", "Ledger.status", "Ledger.purpose", "_Recorder.append_outcome", "Batch.commit",
                 "_Recorder.give", "_Recorder.register_purpose_outcome", "Ledger.append_many_outcome", "Head.parse",
                 "Record.to_dict", "Event.to_dict", "Status.to_dict", "check_receipt", "Witness.cosign"):
        assert name in CALLABLES, sorted(CALLABLES)
    assert len(CALLABLES) > 80


def _problems(name: str, doc: str) -> List[str]:
    """What is wrong with the ``Raises:`` section of ``name``'s docstring."""
    entries = _raises_section(doc)
    if not entries:
        return [f"{name}: no `Raises:` section in its docstring"]
    problems = []
    for entry in entries:
        match = _ENTRY.match(entry)
        if not match:
            problems.append(f"{name}: `{entry}` is not `Name[, Name]: when`")
            continue
        for exc in match["names"].split(", "):
            if exc != "nothing" and not _exception(exc):
                problems.append(f"{name}: `{exc}` is not an exception of the package or a built-in")
    return problems


def test_the_check_catches_what_it_is_for() -> None:
    assert _problems("f", "Does things.\n\nRaises NotFound when absent.")  # prose is no section
    assert _problems("f", "Does things.\n\nRaises:\n    NotFund: a typo.")
    assert _problems("f", "Does things.\n\nRaises:\n    LedgerClosed, Exploded: one made up.")
    assert _problems("f", "Does things.\n\nRaises:\n    the storage's errors.")
    assert not _problems("f", "Does things.\n\nRaises:\n    NotFound, TypeError: absent;\n        wrong type.")


@pytest.mark.parametrize("name", sorted(CALLABLES))
def test_every_public_callable_says_what_it_raises(name: str) -> None:
    assert _problems(name, inspect.getdoc(CALLABLES[name]) or "") == []
