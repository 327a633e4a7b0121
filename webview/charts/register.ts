/** Registers only the chart.js pieces the panel uses, so the rest is tree-shaken from the bundle. */
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';
import { registerHeatmapChart } from './heatmapChart.js';

let registered = false;

export function registerCharts(): void {
  if (registered) return;
  registered = true;
  Chart.register(CategoryScale, LinearScale, LineController, LineElement, PointElement, BarController, BarElement, Tooltip, Legend);
  registerHeatmapChart();
}
