"""HTTP in and out: the Starlette app, its middleware and the endpoints beside /graphql."""
