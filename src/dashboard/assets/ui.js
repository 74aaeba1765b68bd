// The dashboard's own script: charts from the data the page carries, and the copy button.
// Served from /ui/assets like htmx and Chart.js: the CSP allows no inline script.
'use strict';

function drawCharts(root) {
  if (typeof Chart === 'undefined') return;
  for (const canvas of root.querySelectorAll('canvas[data-chart]')) {
    if (canvas.dataset.drawn) continue;
    canvas.dataset.drawn = 'true';
    const data = JSON.parse(canvas.dataset.chart);
    new Chart(canvas, {
      type: 'bar',
      data: {
        labels: data.labels,
        datasets: data.series.map((series) => ({ label: series.label, data: series.values })),
      },
      options: { animation: false, responsive: true, maintainAspectRatio: false },
    });
  }
}

async function copy(button) {
  const target = document.querySelector(button.dataset.copy);
  const status = document.querySelector(`[data-copy-status="${button.dataset.copy}"]`);
  if (!target) return;
  let copied;
  try {
    await navigator.clipboard.writeText(target.value);
    copied = true;
  } catch {
    target.select();
    copied = document.execCommand('copy');
  }
  if (status)
    status.textContent = copied ? 'Copied to the clipboard.' : 'Select the key and copy it yourself.';
}

document.addEventListener('click', (event) => {
  const button = event.target.closest('[data-copy]');
  if (button) void copy(button);
});
document.addEventListener('DOMContentLoaded', () => drawCharts(document));
document.addEventListener('htmx:after:swap', (event) => drawCharts(event.target));
