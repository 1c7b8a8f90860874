/** Markdown tables of every Arrow schema, for README (a test keeps README in sync with schemas.ts). */
import { ALL_SPECS, type TableSpec } from './schemas.js';

const KIND_LABEL: Record<string, string> = {
  int32: 'Int32',
  int8: 'Int8',
  float32: 'Float32',
  float64: 'Float64',
  utf8: 'Utf8',
  dict8: 'Dictionary<Int8, Utf8>',
  dict32: 'Dictionary<Int32, Utf8>',
  list_int32: 'List<Int32>',
  list_float32: 'List<Float32>',
  list_float64: 'List<Float64>',
  fsl_float32: 'FixedSizeList<Float32>[d]',
};

export function schemaMarkdown(spec: TableSpec): string {
  const rows = spec.columns.map((c) => {
    const flags = [c.optional ? 'optional' : '', c.nullable ? 'nullable' : ''].filter(Boolean).join(', ');
    return `| \`${c.name}\` | ${KIND_LABEL[c.kind]} | ${flags} | ${c.doc} |`;
  });
  return [`**${spec.name}** — ${spec.doc}`, '', '| column | type | | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

export function allSchemasMarkdown(): string {
  return ALL_SPECS.map(schemaMarkdown).join('\n\n');
}
