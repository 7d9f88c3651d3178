// "Will it work?": the doctor's report (`legacygraph doctor`) for the caller whose tokens are in
// the headers below the query, fetched from ./doctor.json — per source, one ✓ ✗ ? line a check.
import { useState } from "react";
import { useGraphiQL } from "@graphiql/react";

const MARKS = { ok: "✓", failed: "✗", unknown: "?" };

function headersOf(text) {
  try {
    const parsed = JSON.parse(text || "{}");
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
      return Object.fromEntries(Object.entries(parsed).filter(([, value]) => typeof value === "string"));
    }
  } catch {
    // Not JSON: ask as nobody rather than send it broken.
  }
  return {};
}

function Doctor() {
  const headerEditor = useGraphiQL((state) => state.headerEditor);
  const [report, setReport] = useState(null);
  const [problem, setProblem] = useState("");
  const [busy, setBusy] = useState(false);

  async function check() {
    setBusy(true);
    setProblem("");
    try {
      const response = await fetch("./doctor.json", {
        credentials: "same-origin",
        headers: { ...headersOf(headerEditor?.getValue()), Accept: "application/json" },
      });
      const body = await response.json();
      if (!response.ok) throw new Error(body.errors?.[0]?.message ?? `HTTP ${response.status}`);
      setReport(body);
    } catch (error) {
      setReport(null);
      setProblem(`The checks could not be run: ${error.message}`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="lg-panel" data-testid="doctor">
      <h2>Will it work?</h2>
      <p className="lg-muted">
        Read-only checks of each source, as the caller whose tokens are in the headers below the query (sign in
        first to check your own). Kept for 30 seconds.
      </p>
      <button type="button" onClick={check} disabled={busy}>
        {busy ? "Checking…" : "Check"}
      </button>
      {problem && <p role="status">{problem}</p>}
      {report && (
        <div data-testid="doctor-report">
          <p data-testid="doctor-verdict">
            {report.ok ? "✓ Every configured part works." : "✗ Some configured part cannot work."}
          </p>
          {report.sources.map((source) => (
            <section key={source.source} data-testid={`doctor-${source.source}`}>
              <h3>
                {source.ok ? "✓" : "✗"} {source.source}
              </h3>
              <ul className="lg-doctor">
                {source.checks.map((item, index) => (
                  <li key={index} className={`lg-doctor-${item.status}`}>
                    {MARKS[item.status] ?? "?"} {item.name}
                    {item.detail && <span className="lg-muted">: {item.detail}</span>}
                  </li>
                ))}
              </ul>
            </section>
          ))}
        </div>
      )}
    </div>
  );
}

function StethoscopeIcon() {
  return (
    <svg viewBox="0 0 24 24" width="20" height="20" fill="none" stroke="currentColor" strokeWidth="1.5" aria-hidden="true">
      <path d="M6 3v6a4 4 0 008 0V3" />
      <path d="M10 13v3a4 4 0 008 0v-2" />
      <circle cx="18" cy="12" r="2" />
    </svg>
  );
}

export function doctorPlugin() {
  return { title: "Will it work?", icon: StethoscopeIcon, content: Doctor };
}
