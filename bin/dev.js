#!/usr/bin/env -S node --import tsx --no-warnings
// Development entry: runs the TypeScript sources through tsx (slower start, no build step) and ignores
// the built oclif manifest so new commands are found.
import { execute } from '@oclif/core';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
await execute({ development: true, dir: import.meta.url, loadOptions: { root, ignoreManifest: true } });
