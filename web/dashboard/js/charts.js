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
 * A line chart over time, sized to its container.
 * @param {HTMLElement} container
 * @param {{ title: string, times: number[], series: { label: string, values: number[], color: string }[], yLabel?: string }} spec  times in seconds since the epoch
 */
export function lineChart(container, spec) {
  const width = Math.max(320, container.clientWidth || 800);
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
