import { useQuery } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { api } from '../api.ts';
import type { RunPage } from '../api-types.ts';
import { describeSeries, runSeries } from '../charts.ts';

// Charts of a connection's run history (uPlot): duration, objects changed, Graph requests and throttled answers per
// run, over time in the admin's time zone. Each chart says its gist to screen readers.

const CHARTS = [
  { key: 'durationS', label: 'Duration', unit: ' s', color: '#1f5fbf' },
  { key: 'changes', label: 'Objects changed', unit: '', color: '#1c7c3a' },
  { key: 'graphRequests', label: 'Graph requests', unit: '', color: '#6b4fbb' },
  { key: 'throttled', label: 'Throttled answers', unit: '', color: '#b3261e' },
] as const;

/** `latest`: the id and status of the connection's latest run; the charts are read again when it changes. */
export function RunCharts({ connectionId, latest }: { connectionId: string; latest: string }) {
  const runs = useQuery({
    queryKey: ['runs-history', connectionId, latest],
    placeholderData: (previous) => previous,
    queryFn: () => api<RunPage>('GET', `/connections/${connectionId}/runs?limit=100`),
  });
  if (!runs.data) return null;
  const series = runSeries(runs.data.items);
  if (series.x.length < 2) return <p className="meta">The charts of the run history appear after two finished runs.</p>;
  return (
    <section aria-labelledby="charts-title">
      <h2 id="charts-title">Run history</h2>
      <div className="charts">
        {CHARTS.map((c) => (
          <Chart
            key={c.key}
            x={series.x}
            y={series[c.key]}
            label={c.label}
            color={c.color}
            summary={describeSeries(c.label, series[c.key], c.unit)}
          />
        ))}
      </div>
    </section>
  );
}

function Chart({
  x,
  y,
  label,
  color,
  summary,
}: {
  x: number[];
  y: (number | null)[];
  label: string;
  color: string;
  summary: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const plot = new uPlot(
      {
        width: Math.max(240, el.clientWidth),
        height: 160,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        series: [{}, { label, stroke: color, width: 2, fill: `${color}22`, points: { show: y.length < 40 } }],
        axes: [{ stroke: '#555b66' }, { stroke: '#555b66', size: 50 }],
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      },
      [x, y],
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(240, el.clientWidth), height: 160 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [x, y, label, color]);
  return (
    <figure className="chart">
      <figcaption>{label}</figcaption>
      <div ref={box} role="img" aria-label={summary} />
    </figure>
  );
}
