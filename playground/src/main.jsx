// The legacygraph playground: GraphiQL with the Explorer, a sign-in panel, the saved examples,
// the doctor's report for the caller ("Will it work?"), and under each result what it cost
// upstream, with an export of its first list.
import "graphiql/setup-workers/vite";
import "graphiql/style.css";
import "@graphiql/plugin-explorer/style.css";
import "./playground.css";

import { StrictMode, useMemo, useState } from "react";
import { createRoot } from "react-dom/client";
import { GraphiQL } from "graphiql";
import { explorerPlugin } from "@graphiql/plugin-explorer";

import { CostPanel } from "./cost.jsx";
import { doctorPlugin } from "./doctor.jsx";
import { examplesPlugin } from "./examples.jsx";
import { signInPlugin } from "./signin.jsx";

const ENDPOINT = "../graphql";
const TRACE_HEADER = "X-Legacygraph-Trace";

// Everything GraphiQL keeps (tabs, headers with their tokens) lives only as long as the
// browser tab: sessionStorage, never localStorage.
const storage = window.sessionStorage;

function makeFetcher(onResult) {
  return async (params, options) => {
    const response = await fetch(ENDPOINT, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        ...(options?.headers ?? {}),
        "Content-Type": "application/json",
        Accept: "application/json",
        [TRACE_HEADER]: "1",
      },
      body: JSON.stringify(params),
    });
    const text = await response.text();
    let result;
    try {
      result = JSON.parse(text);
    } catch {
      result = { errors: [{ message: `The gateway answered HTTP ${response.status}: ${text.slice(0, 200)}` }] };
    }
    if (params.operationName !== "IntrospectionQuery") {
      onResult(result);
    }
    return result;
  };
}

const plugins = [signInPlugin(), examplesPlugin(), doctorPlugin(), explorerPlugin()];

function Playground() {
  const [result, setResult] = useState(null);
  const fetcher = useMemo(() => makeFetcher(setResult), []);
  return (
    <GraphiQL
      fetcher={fetcher}
      plugins={plugins}
      storage={storage}
      shouldPersistHeaders={true}
      defaultEditorToolsVisibility="headers"
      defaultQuery={"# Pick an example from the list on the left, or write a query.\n{\n  discussions(first: 5) {\n    nodes { title author { displayName } }\n  }\n}\n"}
    >
      <GraphiQL.Logo>legacygraph</GraphiQL.Logo>
      <GraphiQL.Footer>
        <CostPanel result={result} />
      </GraphiQL.Footer>
    </GraphiQL>
  );
}

createRoot(document.getElementById("playground")).render(
  <StrictMode>
    <Playground />
  </StrictMode>,
);
