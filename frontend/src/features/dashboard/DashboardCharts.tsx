// The dashboard's charts (recharts; this module is only in the dashboard's lazy chunk). Each chart has its
// figures in text beside it too: the charts are a picture of numbers the page also states.

import { Bar, BarChart, Cell, Legend, Pie, PieChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

import type { Slice } from "./dashboardView";

export function DevicesDonut({ slices }: { slices: Slice[] }) {
  const shown = slices.filter((s) => s.value > 0);
  return (
    <div role="img" aria-label={slices.map((s) => `${s.label} ${s.value}`).join(", ")} style={{ height: 180 }}>
      <ResponsiveContainer width="100%" height="100%">
        <PieChart>
          <Pie data={shown} dataKey="value" nameKey="label" innerRadius={45} outerRadius={75} isAnimationActive={false}>
            {shown.map((s) => (
              <Cell key={s.key} fill={s.color} />
            ))}
          </Pie>
          <Tooltip />
          <Legend verticalAlign="middle" align="right" layout="vertical" />
        </PieChart>
      </ResponsiveContainer>
    </div>
  );
}

export function CountBars({
  data,
  x,
  y,
  label,
  color,
}: {
  data: Record<string, string | number>[];
  x: string;
  y: string;
  label: string;
  color: string;
}) {
  return (
    <div role="img" aria-label={label} style={{ height: 200 }}>
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
          <XAxis dataKey={x} tick={{ fontSize: 11 }} interval={0} />
          <YAxis allowDecimals={false} tick={{ fontSize: 11 }} />
          <Tooltip />
          <Bar dataKey={y} fill={color} maxBarSize={56} isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
