/**
 * The chart of bench/README.md, written as plain SVG (no dependencies): throughput and p99 latency per
 * connection count for each contestant, as grouped bars, values printed on the bars.
 */

export interface ChartSeries {
  label: string;
  color: string;
  /** Per connection count, in the order of `connections`. */
  throughput: readonly number[];
  p99Ms: readonly number[];
}

export interface ChartInput {
  title: string;
  subtitle: string;
  connections: readonly number[];
  series: readonly ChartSeries[];
}

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A "nice" axis maximum: 1, 2, 2.5 or 5 times a power of ten, at least `value`. */
function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function formatValue(value: number): string {
  if (!Number.isFinite(value)) return '–';
  if (value >= 10_000) return `${(value / 1000).toFixed(1)}k`;
  if (value >= 100) return String(Math.round(value));
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

interface Panel {
  x: number;
  y: number;
  width: number;
  height: number;
  title: string;
  unit: string;
  values: (series: ChartSeries) => readonly number[];
}

function panel(input: ChartInput, spec: Panel): string {
  const { x, y, width, height } = spec;
  const all = input.series.flatMap((s) => spec.values(s)).filter(Number.isFinite);
  const max = niceMax(Math.max(...all, 0));
  const parts: string[] = [];
  parts.push(`<text x="${x}" y="${y - 14}" class="panel">${escape(spec.title)}</text>`);
  // Grid and axis labels.
  for (let i = 0; i <= 4; i++) {
    const value = (max * i) / 4;
    const gy = y + height - (height * i) / 4;
    parts.push(`<line x1="${x}" y1="${gy}" x2="${x + width}" y2="${gy}" class="grid"/>`);
    parts.push(`<text x="${x - 6}" y="${gy + 4}" class="axis" text-anchor="end">${formatValue(value)}</text>`);
  }
  parts.push(
    `<text x="${x - 44}" y="${y + height / 2}" class="axis" text-anchor="middle" ` +
      `transform="rotate(-90 ${x - 44} ${y + height / 2})">${escape(spec.unit)}</text>`,
  );
  const groups = input.connections.length;
  const groupWidth = width / groups;
  const barWidth = Math.min(46, (groupWidth * 0.8) / input.series.length);
  input.connections.forEach((connections, g) => {
    const groupX = x + g * groupWidth + (groupWidth - barWidth * input.series.length) / 2;
    input.series.forEach((series, s) => {
      const value = spec.values(series)[g] ?? Number.NaN;
      const barHeight = Number.isFinite(value) ? (height * value) / max : 0;
      const bx = groupX + s * barWidth;
      const tooltip = escape(`${series.label}, ${connections} conn: ${formatValue(value)} ${spec.unit}`);
      parts.push(
        `<rect x="${bx.toFixed(1)}" y="${(y + height - barHeight).toFixed(1)}" width="${(barWidth - 3).toFixed(1)}" ` +
          `height="${barHeight.toFixed(1)}" fill="${series.color}"><title>${tooltip}</title></rect>`,
      );
      parts.push(
        `<text x="${(bx + (barWidth - 3) / 2).toFixed(1)}" y="${(y + height - barHeight - 4).toFixed(1)}" ` +
          `class="value" text-anchor="middle">${formatValue(value)}</text>`,
      );
    });
    parts.push(
      `<text x="${x + g * groupWidth + groupWidth / 2}" y="${y + height + 18}" class="axis" ` +
        `text-anchor="middle">${connections} connection${connections === 1 ? '' : 's'}</text>`,
    );
  });
  parts.push(`<line x1="${x}" y1="${y + height}" x2="${x + width}" y2="${y + height}" class="baseline"/>`);
  return parts.join('\n  ');
}

export function renderChart(input: ChartInput): string {
  const width = 980;
  const height = 440;
  const panelWidth = 380;
  const panelHeight = 260;
  const top = 96;
  const legend = input.series
    .map((series, i) => {
      // Four labels of about 200 px each fit side by side in the 980 px width.
      const spacing = Math.min(290, (width - 80) / input.series.length);
      const lx = 40 + i * spacing;
      return (
        `<rect x="${lx}" y="${height - 30}" width="14" height="14" fill="${series.color}"/>` +
        `<text x="${lx + 20}" y="${height - 18}" class="legend">${escape(series.label)}</text>`
      );
    })
    .join('\n  ');
  const throughputPanel = panel(input, {
    x: 80,
    y: top,
    width: panelWidth,
    height: panelHeight,
    title: 'Throughput (higher is better)',
    unit: 'requests/s',
    values: (s) => s.throughput,
  });
  const latencyPanel = panel(input, {
    x: 80 + panelWidth + 110,
    y: top,
    width: panelWidth,
    height: panelHeight,
    title: 'p99 latency (lower is better)',
    unit: 'ms',
    values: (s) => s.p99Ms,
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escape(input.title)}">
  <style>
    text { font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", Helvetica, Arial, sans-serif; fill: #24292f; }
    .title { font-size: 18px; font-weight: 600; }
    .subtitle { font-size: 12px; fill: #57606a; }
    .panel { font-size: 14px; font-weight: 600; }
    .axis { font-size: 11px; fill: #57606a; }
    .value { font-size: 10px; fill: #24292f; }
    .legend { font-size: 12px; }
    .grid { stroke: #d0d7de; stroke-width: 1; stroke-dasharray: 2 3; }
    .baseline { stroke: #57606a; stroke-width: 1; }
  </style>
  <rect width="100%" height="100%" fill="#ffffff"/>
  <text x="24" y="32" class="title">${escape(input.title)}</text>
  <text x="24" y="52" class="subtitle">${escape(input.subtitle)}</text>
  ${throughputPanel}
  ${latencyPanel}
  ${legend}
</svg>
`;
}
