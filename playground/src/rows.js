// A result's first list, as rows to export: JSON as it is, CSV with nested fields flattened.

/** The first array of objects in `data`, looking depth first in field order, or null. */
export function firstList(data) {
  if (Array.isArray(data)) {
    if (data.length > 0 && data.every((item) => item !== null && typeof item === "object" && !Array.isArray(item))) {
      return data;
    }
    for (const item of data) {
      const found = firstList(item);
      if (found) return found;
    }
    return null;
  }
  if (data !== null && typeof data === "object") {
    for (const value of Object.values(data)) {
      const found = firstList(value);
      if (found) return found;
    }
  }
  return null;
}

/** `{a: {b: 1}, c: [1, 2]}` becomes `{"a.b": 1, "c": "[1,2]"}`. */
export function flatten(row, prefix = "", into = {}) {
  for (const [key, value] of Object.entries(row)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      flatten(value, name, into);
    } else if (Array.isArray(value)) {
      into[name] = JSON.stringify(value);
    } else {
      into[name] = value;
    }
  }
  return into;
}

// A cell that starts like a formula is run by spreadsheets when the file is opened: a forum
// title such as "=HYPERLINK(...)" must stay text.
const FORMULA = /^[=+\-@\t\r]/;

function cell(value) {
  if (value === null || value === undefined) return "";
  let text = String(value);
  if (typeof value === "string" && FORMULA.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function toCsv(rows) {
  const flat = rows.map((row) => flatten(row));
  const columns = [...new Set(flat.flatMap((row) => Object.keys(row)))];
  const lines = [columns.map(cell).join(",")];
  for (const row of flat) lines.push(columns.map((column) => cell(row[column])).join(","));
  return lines.join("\r\n") + "\r\n";
}
