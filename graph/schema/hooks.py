"""Strawberry's schema extension hooks, entered as Strawberry enters them, for less per request.

For every request and every stage (operation, parsing, validation, execution) Strawberry looks
each extension's hook up again, asks `inspect` whether it is a generator function, and wraps it
with `contextlib.contextmanager` (`functools.wraps` included): about a tenth of a small query's
execution. Here the look-up is made once per extension class and stage, and a generator hook
becomes the context manager `contextlib.contextmanager` would make of it, without the wrapping.
Everything else (the order, the exit stack, async hooks, callables) is Strawberry's own code.
The Strawberry classes this builds on, and the context manager of a generator, are reached
through `graph/internals.py`.
"""

from __future__ import annotations

import inspect
from typing import Any

from strawberry.extensions import SchemaExtension

from graph.internals import (
    ExecutingContextManager,
    ExtensionContextManagerBase,
    OperationContextManager,
    ParsingContextManager,
    SchemaExtensionsRunner,
    ValidationContextManager,
    WrappedHook,
    entered_by,
)

__all__ = ["HookRunner"]

_GENERATORS: dict[tuple[type[Any], str], Any] = {}
"""(extension class, hook name) -> the hook if it is a generator function, else None (absent,
or a kind Strawberry's own `get_hook` handles)."""
_ABSENT: dict[tuple[type[Any], str], bool] = {}


class _Hooks(ExtensionContextManagerBase):
    def get_hook(self, extension: SchemaExtension) -> WrappedHook | None:
        key = (type(extension), self.HOOK_NAME)
        if key not in _ABSENT:
            hook_fn = getattr(type(extension), self.HOOK_NAME)
            _ABSENT[key] = hook_fn is self.default_hook
            _GENERATORS[key] = hook_fn if inspect.isgeneratorfunction(hook_fn) else None
        if _ABSENT[key]:
            return None
        generator = _GENERATORS[key]
        if generator is None:
            return super().get_hook(extension)
        made = entered_by(generator, extension)  # as `contextlib.contextmanager` would
        return WrappedHook(extension=extension, hook=made, is_async=False)


class _Operation(_Hooks, OperationContextManager):
    pass


class _Validation(_Hooks, ValidationContextManager):
    pass


class _Parsing(_Hooks, ParsingContextManager):
    pass


class _Executing(_Hooks, ExecutingContextManager):
    pass


class HookRunner(SchemaExtensionsRunner):
    """Strawberry's runner, with the hooks of each stage looked up as `_Hooks` does."""

    def operation(self) -> OperationContextManager:
        return _Operation(self.extensions)

    def validation(self) -> ValidationContextManager:
        return _Validation(self.extensions)

    def parsing(self) -> ParsingContextManager:
        return _Parsing(self.extensions)

    def executing(self) -> ExecutingContextManager:
        return _Executing(self.extensions)
