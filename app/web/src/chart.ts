import { healthCurve, type HealthFigures } from '@ballast/client';

/** An SVG chart of the health factor against the price of slot `index`'s asset (0 to 2× today),
 * with the liquidation line (health factor 1) and today's price marked. */
export function healthChart(figures: HealthFigures, index: number, label: string): string {
  const slot = figures.slots[index];
  const width = 320, height = 180, pad = 30;
  const maxPrice = slot.price * 2;
  const prices = Array.from({ length: 41 }, (_, i) => (maxPrice * i) / 40);
  const curve = healthCurve(figures, index, prices).filter((p) => p.healthFactor !== null);
  const maxHf = Math.max(2, Math.min(5, (figures.healthFactor ?? 2) * 1.5));
  const x = (p: number) => pad + ((width - 2 * pad) * p) / maxPrice;
  const y = (hf: number) => height - pad - ((height - 2 * pad) * Math.min(hf, maxHf)) / maxHf;
  const line = curve.map((p, i) => `${i ? 'L' : 'M'}${x(p.price).toFixed(1)},${y(p.healthFactor!).toFixed(1)}`).join(' ');
  return `<svg class="chart" data-slot="${index}" width="${width}" height="${height}" role="img" aria-label="health factor against the ${label} price">
  <text x="${pad}" y="14" font-size="12">health factor vs ${label} price</text>
  <line x1="${pad}" y1="${y(1)}" x2="${width - pad}" y2="${y(1)}" stroke="#b3261e" stroke-dasharray="4 3"/>
  <text x="${width - pad}" y="${y(1) - 3}" font-size="10" text-anchor="end" fill="#b3261e">liquidation (1.0)</text>
  <line x1="${x(slot.price)}" y1="${pad}" x2="${x(slot.price)}" y2="${height - pad}" stroke="#999"/>
  <text x="${x(slot.price)}" y="${height - pad + 12}" font-size="10" text-anchor="middle">$${slot.price.toFixed(2)} now</text>
  <path d="${line}" fill="none" stroke="#14213d" stroke-width="2"/>
  <line x1="${pad}" y1="${height - pad}" x2="${width - pad}" y2="${height - pad}" stroke="#333"/>
  <line x1="${pad}" y1="${pad}" x2="${pad}" y2="${height - pad}" stroke="#333"/>
  ${[0, 1, maxHf].map((v) => `<text x="${pad - 4}" y="${y(v) + 3}" font-size="10" text-anchor="end">${v.toFixed(1)}</text>`).join('')}
  <text x="${width - pad}" y="${height - pad + 12}" font-size="10" text-anchor="end">$${maxPrice.toFixed(0)}</text>
</svg>`;
}
