// Composes the subgraphs named on the command line (name=file.graphql ...) with the composition
// each federation router uses: Apollo's (Apollo Router via Rover or GraphOS, Apollo Gateway),
// The Guild's (Hive Gateway, Mesh compose-cli) and WunderGraph's (Cosmo). Prints one JSON object:
// per composer, its errors and the entity keys of the result, {type: {subgraph: [fields]}}.
import { readFileSync } from "node:fs";
import { composeServices as composeApollo } from "@apollo/composition";
import { composeServices as composeHive } from "@theguild/federation-composition";
import cosmo from "@wundergraph/composition";
import { Kind, parse } from "graphql";

const subgraphs = process.argv.slice(2).map((pair) => {
  const [name, file] = pair.split("=");
  const sdl = readFileSync(file, "utf8");
  return { name, url: `http://127.0.0.1/${name}`, typeDefs: parse(sdl), definitions: parse(sdl) };
});

const argument = (directive, name) =>
  directive.arguments.find((a) => a.name.value === name)?.value.value;

// The keys a supergraph records: `@join__type(graph: G, key: "...")`, G named by `@join__graph`.
function supergraphKeys(supergraphSdl) {
  const document = parse(supergraphSdl);
  const graphs = {};
  const keys = {};
  for (const definition of document.definitions) {
    if (definition.kind === Kind.ENUM_TYPE_DEFINITION && definition.name.value === "join__Graph") {
      for (const value of definition.values) {
        const graph = value.directives.find((d) => d.name.value === "join__graph");
        graphs[value.name.value] = argument(graph, "name");
      }
    }
  }
  for (const definition of document.definitions) {
    for (const directive of definition.directives ?? []) {
      const key = directive.name.value === "join__type" && argument(directive, "key");
      if (key) {
        const graph = graphs[directive.arguments.find((a) => a.name.value === "graph").value.value];
        ((keys[definition.name.value] ??= {})[graph] ??= []).push(key);
      }
    }
  }
  return keys;
}

function fromSupergraph(result) {
  if (result.errors?.length) {
    return { errors: result.errors.map((e) => e.message), keys: {} };
  }
  return { errors: [], keys: supergraphKeys(result.supergraphSdl) };
}

// Cosmo composes into a router configuration, not a supergraph SDL: its keys are per subgraph.
function fromCosmo(result) {
  if (!result.success) {
    return { errors: result.errors.map((e) => e.message), keys: {} };
  }
  const keys = {};
  for (const [subgraph, config] of result.subgraphConfigBySubgraphName) {
    for (const [type, data] of config.configurationDataByTypeName) {
      for (const key of data.keys ?? []) {
        ((keys[type] ??= {})[subgraph] ??= []).push(key.selectionSet);
      }
    }
  }
  return { errors: [], keys };
}

console.log(
  JSON.stringify({
    apollo: fromSupergraph(composeApollo(subgraphs)),
    hive: fromSupergraph(composeHive(subgraphs)),
    cosmo: fromCosmo(cosmo.federateSubgraphs({ subgraphs })),
  }),
);
