/**
 * Registers Longhaul's custom search attributes on the namespace (idempotent). The dev server
 * also gets them through `--search-attribute` flags; a cluster gets them here, given permission.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../../contract/search-attributes';

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;

export async function ensureSearchAttributes(client: Client, namespace: string): Promise<string[]> {
  const existing = await client.connection.operatorService.listSearchAttributes({ namespace });
  const missing = SEARCH_ATTRIBUTES.filter((a) => !(a.name in (existing.customAttributes ?? {})));
  if (missing.length === 0) return [];
  const searchAttributes: Record<string, temporal.api.enums.v1.IndexedValueType> = {};
  for (const a of missing) {
    searchAttributes[a.name] = a.type === 'KEYWORD' ? IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD : IndexedValueType.INDEXED_VALUE_TYPE_DATETIME;
  }
  try {
    await client.connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  } catch (err) {
    // Another process registering the same attributes at the same moment is fine.
    if (!/already exists/i.test(String(err))) throw err;
  }
  return missing.map((a) => a.name);
}
