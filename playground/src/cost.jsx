// Under the result: what it cost upstream (extensions.upstream) and an export of its first list.
import { firstList, toCsv } from "./rows.js";

function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function CostPanel({ result }) {
  if (!result) {
    return <div className="lg-cost" data-testid="cost">Run a query to see what it costs upstream.</div>;
  }
  const upstream = result.extensions?.upstream ?? {};
  const sources = Object.entries(upstream);
  const rows = firstList(result.data ?? null);
  const requests = sources.reduce((sum, [, report]) => sum + report.requests, 0);
  return (
    <div className="lg-cost" data-testid="cost">
      <div className="lg-cost-summary">
        {sources.length === 0
          ? "No upstream requests."
          : `${requests} upstream request${requests === 1 ? "" : "s"}`}
        {rows && (
          <span className="lg-export">
            <button type="button" data-testid="export-csv" onClick={() => download("result.csv", "text/csv", toCsv(rows))}>
              Export CSV
            </button>
            <button
              type="button"
              data-testid="export-json"
              onClick={() => download("result.json", "application/json", JSON.stringify(rows, null, 2))}
            >
              Export JSON
            </button>
            <span className="lg-muted">{rows.length} rows</span>
          </span>
        )}
      </div>
      {sources.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>source</th>
              <th>requests</th>
              <th>time</th>
              <th>cache hits</th>
              <th>calls</th>
            </tr>
          </thead>
          <tbody>
            {sources.map(([source, report]) => (
              <tr key={source} data-testid={`cost-${source}`}>
                <td>{source}</td>
                <td data-testid={`cost-${source}-requests`}>{report.requests}</td>
                <td>{report.ms} ms</td>
                <td data-testid={`cost-${source}-hits`}>{report.cacheHits}</td>
                <td className="lg-calls">
                  {report.calls.map((call, index) => (
                    <span key={index}>
                      {call.call} <span className="lg-muted">{call.status}, {call.ms} ms</span>
                    </span>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
