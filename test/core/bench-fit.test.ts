// The bench's cost-growth fits (bench/scaling.ts): exact on made-up laws, so the reported exponents mean what they say.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitAffine, fitPowerLaw } from '../../bench/scaling.js';

test('fitPowerLaw recovers a and b of a·x^b; fitAffine separates a fixed cost from the slope', () => {
  const x = [1_000, 10_000, 100_000];
  const p = fitPowerLaw(x, x.map((v) => 3e-6 * v ** 1.2));
  assert.ok(Math.abs(p.exponent - 1.2) < 1e-9 && Math.abs(p.factor - 3e-6) < 1e-15);
  const y = x.map((v) => 1 + 2e-5 * v);
  const a = fitAffine(x, y);
  assert.ok(Math.abs(a.fixed - 1) < 1e-9 && Math.abs(a.per_unit - 2e-5) < 1e-15);
  // A fixed cost pulls the log-log exponent of a linear law below 1: why README gives both fits.
  assert.ok(fitPowerLaw(x, y).exponent < 0.5);
});
