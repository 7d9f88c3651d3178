"""The gateway as an Apollo Federation v2 subgraph, "the legacy systems" (`[federation] enabled`).

Entities other subgraphs can extend or reference: `Person` by its e-mail address (normalised as
everywhere), and every type with a global id by `id`. `_entities` resolves representations with
the same loaders as `node` and `person`, so a batch of representations costs what `nodes(ids)`
costs. Strawberry reads an entity's `@key` from its type definition, also when it prints a plain
schema: the keys are added only in a process that serves the subgraph (or exports its SDL), never
where the plain `schema.graphql` is made.

The SDL's `@link` names `[federation] version` (`FederationSettings`): 2.9 by default, the highest
that every router's composition accepts (Apollo's, for Apollo Router and Apollo Gateway, 2.0 to
2.14; The Guild's, for Hive Gateway, 2.0 to 2.9; Cosmo's does not read it). `@key` is all the
subgraph needs, and it is in every 2.x.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import get_object_definition

from graph.internals import give_key, has_key
from graph.schema.ids import GlobalId, InvalidId
from graph.schema.nodes import resolve_node
from graph.schema.types.common import Info, PersonRoot
from graph.schema.types.person import Person
from graph.schema.types.sources import SOURCE_TYPES

__all__ = ["entity_types", "mark_entities"]


def entity_types() -> dict[type, str]:
    """Each entity type and the field that keys it."""
    keyed: dict[type, str] = {node: "id" for types in SOURCE_TYPES.values() for node in types.nodes}
    keyed[Person] = "email"
    return keyed


async def _by_id(cls: type, info: Info, id: strawberry.ID) -> Any:
    name = get_object_definition(cls, strict=True).name
    if GlobalId.decode(id).type_name != name:
        raise InvalidId(f"{id!r} is not a {name} id")
    return await resolve_node(info, id)


def _by_email(cls: type, info: Info, email: str) -> Any:
    return PersonRoot.of(info, email)


def mark_entities() -> None:
    """Give every entity type its `@key` and its `resolve_reference` (once per process)."""
    for cls, key in entity_types().items():
        if has_key(cls):
            continue
        give_key(cls, key)
        cls.resolve_reference = classmethod(_by_email if key == "email" else _by_id)  # type: ignore[attr-defined]
