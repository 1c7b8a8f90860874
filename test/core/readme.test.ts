import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { allSchemasMarkdown } from '../../src/core/schema-doc.js';

test('README documents every Arrow schema exactly as declared (run scripts/sync-readme.ts after a change)', () => {
  const readme = fs.readFileSync('README.md', 'utf8');
  assert.ok(readme.includes(allSchemasMarkdown()), 'README data-model tables are stale: node --import tsx scripts/sync-readme.ts');
});

test('README gives the set-up, main and test commands', () => {
  const readme = fs.readFileSync('README.md', 'utf8');
  assert.match(readme, /npm ci && npm run demo/);
  assert.match(readme, /npm test/);
});
