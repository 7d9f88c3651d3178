"""Global ids back to objects: `Query.node` and `Query.nodes`."""

from __future__ import annotations

from strawberry.types import get_object_definition

from graph.schema.ids import GlobalId, InvalidId
from graph.schema.types.common import Info, Node, NodeLoader, PersonRoot
from graph.schema.types.sources import SOURCE_TYPES

__all__ = ["NODE_LOADERS", "resolve_node"]


async def _person(info: Info, email: str) -> PersonRoot:
    return PersonRoot.of(info, email)


NODE_LOADERS: dict[tuple[str, str], NodeLoader] = {
    ("legacygraph", "Person"): _person,
    **{
        (name, get_object_definition(node, strict=True).name): load
        for name, types in SOURCE_TYPES.items()
        for node, load in types.nodes.items()
    },
}
"""Each type's way back from its global id: a source's types in `graph/schema/types/<source>.py`."""


async def resolve_node(info: Info, node_id: str) -> Node | PersonRoot:
    decoded = GlobalId.decode(node_id)
    loader = NODE_LOADERS.get((decoded.source, decoded.type_name))
    if loader is None:
        raise InvalidId(f"{node_id!r} names no type this gateway serves")
    return await loader(info, decoded.upstream_id)
