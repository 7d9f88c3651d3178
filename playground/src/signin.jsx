// Sign in to one source: the page calls Mutation.login and puts the token into that source's
// header in GraphiQL's headers editor. The password is sent once, in a POST body, and forgotten;
// the token lives in the headers, which GraphiQL keeps in sessionStorage only.
import { useState } from "react";
import { useGraphiQL } from "@graphiql/react";

const HEADERS = {
  FLARUM: "X-Flarum-Token",
  MOODLE: "X-Moodle-Token",
  CIVICRM: "X-Civicrm-Api-Key",
  ELGG: "X-Elgg-Token",
  EQSASH: "X-Eqsash-Token",
};

const LOGIN = `mutation PlaygroundLogin($source: Source!, $username: String!, $password: String!) {
  login(source: $source, username: $username, password: $password) {
    token
    expiresAt
    account { displayName }
  }
}`;

function withHeader(text, name, value) {
  let headers = {};
  try {
    const parsed = JSON.parse(text || "{}");
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) headers = parsed;
  } catch {
    // What was typed there is not JSON: start again rather than send it broken.
  }
  headers[name] = value;
  return JSON.stringify(headers, null, 2);
}

function SignIn() {
  const headerEditor = useGraphiQL((state) => state.headerEditor);
  const [source, setSource] = useState("FLARUM");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [status, setStatus] = useState("");
  const [busy, setBusy] = useState(false);

  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setStatus("");
    try {
      const response = await fetch("../graphql", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ query: LOGIN, variables: { source, username, password } }),
      });
      const body = await response.json();
      const login = body.data?.login;
      if (!login) {
        setStatus(body.errors?.[0]?.message ?? `Sign-in failed (HTTP ${response.status})`);
        return;
      }
      headerEditor.setValue(withHeader(headerEditor.getValue(), HEADERS[source], login.token));
      setPassword("");
      const who = login.account?.displayName ?? username;
      setStatus(`Signed in to ${source.toLowerCase()} as ${who}; ${HEADERS[source]} is set.`);
    } catch (error) {
      setStatus(`Sign-in failed: ${error.message}`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="lg-panel" onSubmit={submit} data-testid="sign-in">
      <h2>Sign in</h2>
      <p className="lg-muted">
        Sign in to a source with your own account. The token goes into the request headers below the
        query and is kept for this browser tab only.
      </p>
      <label>
        Source
        <select name="source" value={source} onChange={(event) => setSource(event.target.value)}>
          {Object.keys(HEADERS).map((name) => (
            <option key={name} value={name}>
              {name.charAt(0) + name.slice(1).toLowerCase()}
            </option>
          ))}
        </select>
      </label>
      <label>
        Username
        <input name="username" autoComplete="username" value={username} onChange={(event) => setUsername(event.target.value)} required />
      </label>
      <label>
        Password
        <input
          name="password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(event) => setPassword(event.target.value)}
          required
        />
      </label>
      <button type="submit" disabled={busy || !headerEditor}>
        Sign in
      </button>
      <p role="status" data-testid="sign-in-status">
        {status}
      </p>
    </form>
  );
}

function KeyIcon() {
  return (
    <svg viewBox="0 0 24 24" width="20" height="20" fill="none" stroke="currentColor" strokeWidth="1.5" aria-hidden="true">
      <circle cx="8" cy="15" r="4" />
      <path d="M11 12l9-9M16 7l3 3M14 9l2 2" />
    </svg>
  );
}

export function signInPlugin() {
  return { title: "Sign in", icon: KeyIcon, content: SignIn };
}
