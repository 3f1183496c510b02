"""Memoise two pure GX 1.x accessors for the length of one validation call.

GX rebuilds an expectation's ``configuration`` (a pydantic v1 ``.dict()`` plus a new
``ExpectationConfiguration``) every time it reads one kwarg, and turns the same configuration
back into a new expectation object (``to_domain_obj``, pydantic validation) for every metric it
asks about: ≈ 3,700 rebuilds per 30-expectation call, ≈ 20 % of ``validate``'s CPU. Both are
pure functions of the object they are called on, and nothing on GX's validation path changes
that object in between, so within one call (:func:`scope`, on the calling thread only) each
object's answer is computed once and handed back again. Outside a scope, or on another thread,
GX's own code runs unchanged.

The memo keeps every object it answered for alive until the scope ends, so an ``id`` is never
reused for another object while its answer is stored.
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

log = logging.getLogger(__name__)

_MARK = "__cchc_memo__"
_STATE = threading.local()


def install() -> bool:
    """Wrap the two accessors (once per process); ``False`` if GX's shape is not the expected one.

    A GX upgrade that renames or reshapes them leaves GX untouched and logs a warning:
    validation stays correct, only slower.
    """
    targets = _targets()
    if targets is None:
        return False
    prop, expectation_cls, to_obj, config_cls = targets
    if getattr(prop.fget, _MARK, False):
        return True
    expectation_cls.configuration = property(_memoised(prop.fget), doc=prop.__doc__)
    config_cls.to_domain_obj = _memoised(to_obj)
    return True


def installed() -> bool:
    """Whether GX's accessors are the memoised wrappers."""
    targets = _targets(quiet=True)
    if targets is None:
        return False
    prop, _, to_obj, _ = targets
    return bool(getattr(prop.fget, _MARK, False) and getattr(to_obj, _MARK, False))


def uninstall() -> None:
    """Put GX's own accessors back (tests compare results with and without the memo)."""
    targets = _targets(quiet=True)
    if targets is None:
        return
    prop, expectation_cls, to_obj, config_cls = targets
    if getattr(prop.fget, _MARK, False):
        expectation_cls.configuration = property(prop.fget.__wrapped__, doc=prop.__doc__)
    if getattr(to_obj, _MARK, False):
        config_cls.to_domain_obj = to_obj.__wrapped__


@contextmanager
def scope() -> Iterator[None]:
    """Memoise on this thread until the block ends (a nested scope shares the outer memo)."""
    if getattr(_STATE, "memo", None) is not None:
        yield
        return
    _STATE.memo = {}
    try:
        yield
    finally:
        _STATE.memo = None


def _targets(*, quiet: bool = False) -> tuple[property, type, Callable[..., Any], type] | None:
    """GX's ``Expectation.configuration`` property and ``ExpectationConfiguration.to_domain_obj``."""
    try:
        from great_expectations.expectations.expectation import Expectation
        from great_expectations.expectations.expectation_configuration import (
            ExpectationConfiguration,
        )
    except ImportError as err:
        problem = f"GX layout changed ({err})"
    else:
        prop = Expectation.__dict__.get("configuration")
        to_obj = ExpectationConfiguration.__dict__.get("to_domain_obj")
        if isinstance(prop, property) and _self_only(prop.fget) and _self_only(to_obj):
            return prop, Expectation, to_obj, ExpectationConfiguration
        problem = "Expectation.configuration or ExpectationConfiguration.to_domain_obj changed"
    if not quiet:
        log.warning("GX configuration memo not installed, validation runs slower: %s", problem)
    return None


def _self_only(fn: Any) -> bool:
    """A plain function of ``self`` alone (what the wrapper assumes)."""
    if not inspect.isfunction(fn):
        return False
    return list(inspect.signature(fn).parameters) == ["self"]


def _memoised(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``fn(self)``, answered once per object while a :func:`scope` is open on this thread."""

    @functools.wraps(fn)
    def wrapper(self: Any) -> Any:
        memo = getattr(_STATE, "memo", None)
        if memo is None:
            return fn(self)
        key = (fn, id(self))
        hit = memo.get(key)
        if hit is not None and hit[0] is self:
            return hit[1]
        value = fn(self)
        memo[key] = (self, value)
        return value

    setattr(wrapper, _MARK, True)
    return wrapper
