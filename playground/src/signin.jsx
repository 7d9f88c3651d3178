// Sign in to one source (Mutation.login: its token into its header) or to every source at once
// (Mutation.loginAll: one gateway session token as Authorization, or each token into its header).
// The password is sent once, in a POST body, and forgotten; the headers are kept in sessionStorage.
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

const LOGIN_ALL = `mutation PlaygroundLoginAll($username: String!, $password: String!) {
  loginAll(username: $username, password: $password) {
    logins { source login { token } error }
    sessionToken
  }
}`;

const EVERYWHERE = "ALL";

function withHeaders(text, added) {
  let headers = {};
  try {
    const parsed = JSON.parse(text || "{}");
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) headers = parsed;
  } catch {
    // What was typed there is not JSON: start again rather than send it broken.
  }
  return JSON.stringify({ ...headers, ...added }, null, 2);
}

async function ask(query, variables) {
  const response = await fetch("../graphql", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (!body.data) throw new Error(body.errors?.[0]?.message ?? `HTTP ${response.status}`);
  return body.data;
}

/** One source: its token into its header. */
async function signInTo(source, username, password) {
  const { login } = await ask(LOGIN, { source, username, password });
  if (!login) throw new Error(`${source.toLowerCase()} refused the sign-in`);
  const who = login.account?.displayName ?? username;
  return {
    headers: { [HEADERS[source]]: login.token },
    said: `Signed in to ${source.toLowerCase()} as ${who}; ${HEADERS[source]} is set.`,
  };
}

/** Every source at once: one gateway session token if the gateway issues them, else each
 * source's token into its own header. */
async function signInEverywhere(username, password) {
  const { loginAll } = await ask(LOGIN_ALL, { username, password });
  const accepted = loginAll.logins.filter((entry) => entry.login);
  const refused = loginAll.logins.filter((entry) => !entry.login);
  if (accepted.length === 0) throw new Error("no source accepted the sign-in");
  const headers = loginAll.sessionToken
    ? { Authorization: `Bearer ${loginAll.sessionToken}` }
    : Object.fromEntries(accepted.map((entry) => [HEADERS[entry.source], entry.login.token]));
  const names = accepted.map((entry) => entry.source.toLowerCase()).join(", ");
  const notes = refused.map((entry) => `${entry.source.toLowerCase()}: ${entry.error}`).join("; ");
  const how = loginAll.sessionToken ? "Authorization (one session for all) is set" : "their headers are set";
  return { headers, said: `Signed in to ${names}; ${how}.${notes ? ` Not signed in: ${notes}.` : ""}` };
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
      const done =
        source === EVERYWHERE
          ? await signInEverywhere(username, password)
          : await signInTo(source, username, password);
      headerEditor.setValue(withHeaders(headerEditor.getValue(), done.headers));
      setPassword("");
      setStatus(done.said);
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
          <option value={EVERYWHERE}>Every source at once</option>
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
