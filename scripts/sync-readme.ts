// Rewrites README.md's data-model tables (between the schema markers) from src/core/schemas.ts.
import * as fs from 'node:fs';
import { allSchemasMarkdown } from '../src/core/schema-doc.js';

const START = '<!-- schemas:start -->';
const END = '<!-- schemas:end -->';
const readme = fs.readFileSync('README.md', 'utf8');
const a = readme.indexOf(START);
const b = readme.indexOf(END);
if (a < 0 || b < a) throw new Error('README.md has no schema markers');
fs.writeFileSync('README.md', readme.slice(0, a + START.length) + '\n' + allSchemasMarkdown() + '\n' + readme.slice(b));
