// Small numeric and formatting helpers for the report.

export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

export const ratio = (x) => `${x.toFixed(2)}x`;
export const pct = (x) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(0)}%`;
export const int = (x) => Math.round(x).toLocaleString('en-US');
export const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
export const ms = (x) => (x >= 100 ? `${x.toFixed(0)} ms` : `${x.toFixed(1)} ms`);
export function us(x) {
  if (x >= 10_000) return `${(x / 1000).toFixed(1)} ms`;
  return `${x.toFixed(x >= 100 ? 0 : 1)} µs`;
}
export const mark = (ok) => (ok ? 'PASS' : 'MISS');

/** A plain-text table: columns padded to fit, numbers (and marks) right-aligned. */
export function table(header, rows) {
  const all = [header, ...rows].map((r) => r.map((c) => String(c)));
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const right = header.map((_, i) => rows.every((r) => /^[-+]?[\d.,]+( ?[a-zµ%x/]+)?$|^(PASS|MISS|-)$/i.test(String(r[i] ?? ''))));
  const line = (r) => r.map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(all[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...all.slice(1).map(line)].join('\n');
}
