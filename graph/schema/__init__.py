"""The graph and its execution: Strawberry types, root fields, documents, limits and plans."""
