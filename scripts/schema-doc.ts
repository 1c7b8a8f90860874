// Prints the data-model tables that README embeds between the schema markers.
import { allSchemasMarkdown } from '../src/core/schema-doc.js';

process.stdout.write(allSchemasMarkdown() + '\n');
