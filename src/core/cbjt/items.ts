/**
 * The content fields the CBJT encoders read: title, text and an optional dense content vector per item.
 * From a prepared dataset's items (dense ids), or from any ITEMS-shaped file of new items (`gist embed`),
 * whose ids need not be dense.
 */
import { readArrow, type VectorColumn } from '../arrow-io.js';
import type { Items } from '../dataset.js';
import { InputDataError } from '../errors.js';
import { ITEMS } from '../schemas.js';

export interface ContentItems {
  count: number;
  itemId: Int32Array;
  title: string[];
  text: string[];
  /** Dense content vectors (row-major), or null when the items have none. */
  content: VectorColumn | null;
}

export function contentItemsOf(items: Items): ContentItems {
  return { count: items.count, itemId: Int32Array.from({ length: items.count }, (_, i) => i), title: items.title, text: items.text, content: items.content };
}

/** Read the content columns of an ITEMS file (item ids unique, not necessarily dense). */
export function readContentItems(file: string): ContentItems {
  const f = readArrow(file, ITEMS);
  const itemId = f.columns.item_id as Int32Array;
  const seen = new Set<number>();
  for (let r = 0; r < itemId.length; r++) {
    if (seen.has(itemId[r])) throw new InputDataError(`duplicate item_id ${itemId[r]}`, file, 'item_id', r);
    seen.add(itemId[r]);
  }
  return {
    count: f.numRows,
    itemId,
    title: f.columns.title as string[],
    text: f.columns.text as string[],
    content: (f.columns.content as VectorColumn | undefined) ?? null,
  };
}

/** 1 where the item's content vector has any non-zero entry (an all-zero vector means "no content"). */
export function contentPresent(content: VectorColumn, count: number): Uint8Array {
  const out = new Uint8Array(count);
  const { dim, values } = content;
  for (let i = 0; i < count; i++) {
    for (let j = i * dim; j < (i + 1) * dim; j++) {
      if (values[j] !== 0) {
        out[i] = 1;
        break;
      }
    }
  }
  return out;
}
