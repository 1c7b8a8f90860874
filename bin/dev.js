#!/usr/bin/env -S node --import tsx --no-warnings
// Development entry: runs the TypeScript sources through tsx (slower start, no build step). The plugins are
// loaded here because oclif would otherwise read the built manifest, which names the compiled commands of dist
// (so edits to src would not run): the root plugin ignores it and takes its commands and hooks from src.
import { Config, Plugin, execute } from '@oclif/core';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pjson = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const toSrc = (p) => (p.startsWith('./dist/') ? `./src/${p.slice('./dist/'.length)}` : p);
pjson.oclif.commands = toSrc(pjson.oclif.commands);
pjson.oclif.hooks = Object.fromEntries(Object.entries(pjson.oclif.hooks ?? {}).map(([k, v]) => [k, toSrc(v)]));
const plugins = [new Plugin({ root, isRoot: true, ignoreManifest: true, pjson })];
for (const name of pjson.oclif.plugins ?? []) plugins.push(new Plugin({ root: path.join(root, 'node_modules', name), type: 'core' }));
for (const p of plugins) await p.load();
const config = await Config.load({ root, pjson, plugins: new Map(plugins.map((p) => [p.name, p])) });
await execute({ development: true, dir: import.meta.url, loadOptions: config });
