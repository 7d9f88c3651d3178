// The saved examples (playground/examples/*.graphql), listed by the gateway at ./examples.json.
import { useEffect, useState } from "react";
import { useGraphiQL, useGraphiQLActions } from "@graphiql/react";

function Examples() {
  const queryEditor = useGraphiQL((state) => state.queryEditor);
  const { setOperationName } = useGraphiQLActions();

  function open(example) {
    queryEditor.setValue(example.query);
    // Run the example's own operation even if "Run" comes before the editor has re-read it.
    setOperationName(example.operationName ?? "");
  }
  const [examples, setExamples] = useState(null);
  const [problem, setProblem] = useState("");

  useEffect(() => {
    fetch("./examples.json", { credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : Promise.reject(new Error(`HTTP ${response.status}`))))
      .then(setExamples)
      .catch((error) => setProblem(`The examples could not be loaded: ${error.message}`));
  }, []);

  return (
    <div className="lg-panel" data-testid="examples">
      <h2>Examples</h2>
      {problem && <p>{problem}</p>}
      {examples === null && !problem && <p className="lg-muted">Loading…</p>}
      <ul className="lg-examples">
        {(examples ?? []).map((example) => (
          <li key={example.name}>
            <button
              type="button"
              data-example={example.name}
              disabled={!queryEditor}
              onClick={() => open(example)}
            >
              {example.title}
            </button>
            {example.description && <p className="lg-muted">{example.description}</p>}
          </li>
        ))}
      </ul>
    </div>
  );
}

function BookIcon() {
  return (
    <svg viewBox="0 0 24 24" width="20" height="20" fill="none" stroke="currentColor" strokeWidth="1.5" aria-hidden="true">
      <path d="M4 5a2 2 0 012-2h13v16H6a2 2 0 00-2 2V5z" />
      <path d="M4 19a2 2 0 012-2h13" />
    </svg>
  );
}

export function examplesPlugin() {
  return { title: "Examples", icon: BookIcon, content: Examples };
}
