// A federation router for the test: Apollo Gateway composing the subgraphs named on the command
// line (name=url ...), listening on 127.0.0.1:<port>. It forwards the caller's source headers
// (X-<Source>-... and Authorization) to every subgraph, as a router in front of legacygraph must.
import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";

const [port, ...named] = process.argv.slice(2);
const subgraphs = named.map((pair) => {
  const [name, url] = pair.split("=");
  return { name, url };
});

class Forwarding extends RemoteGraphQLDataSource {
  willSendRequest({ request, context }) {
    for (const [name, value] of Object.entries(context.headers ?? {})) {
      if (/^x-/i.test(name) || name.toLowerCase() === "authorization") {
        request.http.headers.set(name, value);
      }
    }
  }
}

const gateway = new ApolloGateway({
  supergraphSdl: new IntrospectAndCompose({ subgraphs }),
  buildService: ({ url }) => new Forwarding({ url }),
});
const server = new ApolloServer({ gateway });
const { url } = await startStandaloneServer(server, {
  listen: { port: Number(port), host: "127.0.0.1" },
  context: async ({ req }) => ({ headers: req.headers }),
});
console.log(`router at ${url}`);
