// @ts-check
// Time-series charts with uPlot (loaded by index.html from the uplot package as the global `uPlot`).

/** One colour per event kind, the same on every chart. */
export const KIND_COLORS = {
  audit: '#2f6fde',
  auth: '#1a7f37',
  security: '#c62828',
  failed_login: '#e07a00',
  error: '#8e24aa',
  api_access: '#607d8b',
  rate_limit: '#00897b',
  session: '#6d4c41',
};

/**
 * The width a chart may take in its container: inside its padding.
 * @param {HTMLElement} container
 */
function chartWidth(container) {
  const style = getComputedStyle(container);
  const inner = container.clientWidth - parseFloat(style.paddingLeft || '0') - parseFloat(style.paddingRight || '0');
  return Math.max(320, Math.floor(inner) || 800);
}

/**
 * A line chart over time, sized to its container.
 * @param {HTMLElement} container
 * @param {{ title: string, times: number[], series: { label: string, values: number[], color: string }[], yLabel?: string }} spec  times in seconds since the epoch
 */
export function lineChart(container, spec) {
  const width = chartWidth(container);
  /** @type {uPlot.Options} */
  const opts = {
    title: spec.title,
    width,
    height: 260,
    scales: { x: { time: true } },
    axes: [{}, { label: spec.yLabel ?? '', size: 60 }],
    series: [
      { label: 'UTC hour', value: (_u, v) => (v === null ? '' : new Date(v * 1000).toISOString().slice(0, 16).replace('T', ' ')) },
      ...spec.series.map((s) => ({ label: s.label, stroke: s.color, width: 2, points: { show: false } })),
    ],
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
  };
  return new uPlot(opts, [spec.times, ...spec.series.map((s) => s.values)], container);
}

/** Severities and lock actions keep one colour on every chart and in the PDF reports. */
export const SEVERITY_COLORS = { CRITICAL: '#7f0000', HIGH: '#d32f2f', MEDIUM: '#f57c00', LOW: '#7891a8' };
export const LOCK_COLORS = { ACCOUNT_LOCKED: '#d32f2f', IP_BLOCKED: '#6a1b9a', ACCOUNT_UNLOCKED: '#2e7d32' };

/** Past this many hours a bar chart shows days: 168 or 720 bars of an hour are too thin to read. */
const HOURLY_UP_TO = 48;

/**
 * Bars over time, one per hour (one per UTC day past two days), stacked by
 * series (the first at the bottom), sized to the container. The legend shows
 * each series' own count under the cursor, not the stacked height.
 * @param {HTMLElement} container
 * @param {{ title: string, note?: string, times: number[], series: { label: string, values: number[], color: string }[], unit: string }} spec  times: start of each hour, in seconds since the epoch; title: what is counted ("Failed logins"), then "per hour" or "per day" and the note ("last 7 days")
 */
export function barChart(container, spec) {
  const width = chartWidth(container);
  const daily = spec.times.length > HOURLY_UP_TO;
  const step = daily ? 86_400 : 3_600;
  // Hours summed into their UTC day when the chart shows days.
  const times = [...new Set(spec.times.map((t) => Math.floor(t / step) * step))];
  const at = new Map(times.map((t, i) => [t, i]));
  const series = spec.series.map((s) => {
    const values = new Array(times.length).fill(0);
    spec.times.forEach((t, i) => {
      values[/** @type {number} */ (at.get(Math.floor(t / step) * step))] += s.values[i] ?? 0;
    });
    return { ...s, values };
  });
  /** @type {number[][]} */
  const stacked = [];
  let sum = new Array(times.length).fill(0);
  for (const s of series) {
    sum = sum.map((total, i) => total + (s.values[i] ?? 0));
    stacked.push(sum);
  }
  // The tallest stack is drawn first, so each lower series paints over it.
  const order = series.map((_, i) => i).reverse();
  const bars = /** @type {NonNullable<uPlot.Series.PathBuilderFactories['bars']>} */ (uPlot.paths.bars)({ size: [0.8, 40, 1] });
  /** @type {uPlot.Options} */
  const opts = {
    title: `${spec.title} per ${daily ? 'day' : 'hour'}${spec.note ? `, ${spec.note}` : ''}`,
    width,
    height: 220,
    scales: {
      // Half a bar of room at each end, so the first and last bars are whole.
      x: { time: true, range: (_u, min, max) => [min - step / 2, max + step / 2] },
      y: { range: (_u, _min, max) => [0, Math.max(1, max)] },
    },
    // Counts: whole-number steps on the y axis.
    // Days: a tick and a date per day (or per few days), not hours.
    axes: [
      daily ? { incrs: [86_400, 2 * 86_400, 7 * 86_400], values: (_u, splits) => splits.map((v) => new Date(v * 1000).toISOString().slice(5, 10)) } : {},
      { label: `${spec.unit} per ${daily ? 'day' : 'hour'}`, size: 60, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000] },
    ],
    series: [
      {
        label: daily ? 'UTC day' : 'UTC hour',
        value: (_u, v) =>
          v === null
            ? ''
            : new Date(v * 1000)
                .toISOString()
                .slice(0, daily ? 10 : 16)
                .replace('T', ' '),
      },
      ...order.map((i) => {
        const s = /** @type {{ label: string, values: number[], color: string }} */ (series[i]);
        return {
          label: s.label,
          fill: s.color,
          stroke: s.color,
          width: 0,
          paths: bars,
          points: { show: false },
          value: (/** @type {uPlot} */ _u, /** @type {number | null} */ _v, /** @type {number} */ _si, /** @type {number | null} */ idx) => (idx === null ? '' : String(s.values[idx] ?? 0)),
        };
      }),
    ],
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
  };
  return new uPlot(opts, [times, ...order.map((i) => /** @type {number[]} */ (stacked[i]))], container);
}
