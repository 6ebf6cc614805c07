/** One sample of the Prometheus text exposition format: `name{label="value",…} 12.5`. */
export interface Sample {
  name: string;
  labels: Readonly<Record<string, string>>;
  value: number;
}

const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const labelPair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/gy;

/** The samples in `text`; comments, blank lines and lines that do not parse are skipped. */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = sampleLine.exec(line.trim());
    if (!match?.[1] || match[3] === undefined) continue;
    const labels = parseLabels(match[2] ?? "");
    const value = Number(match[3]);
    if (labels && !Number.isNaN(value)) samples.push({ name: match[1], labels, value });
  }
  return samples;
}

function parseLabels(body: string): Record<string, string> | undefined {
  const labels: Record<string, string> = {};
  labelPair.lastIndex = 0;
  let consumed = 0;
  for (let match = labelPair.exec(body); match; match = labelPair.exec(body)) {
    const [whole, key, value] = match;
    if (key === undefined || value === undefined) return undefined;
    labels[key] = value.replace(/\\(["\\n])/g, (_, escaped: string) => (escaped === "n" ? "\n" : escaped));
    consumed += whole.length;
  }
  return consumed === body.length ? labels : undefined;
}
