/**
 * Custom search attributes, so runs can be listed and filtered in Temporal visibility
 * (`temporal workflow list --query 'LonghaulStatus="waiting_approval"'`).
 * Plain key objects (what `defineSearchAttributeKey` returns) keep this module pure.
 */
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes';

export const StatusAttribute: SearchAttributeKey<'KEYWORD'> = { name: 'LonghaulStatus', type: 'KEYWORD' };
export const OwnerAttribute: SearchAttributeKey<'KEYWORD'> = { name: 'LonghaulOwner', type: 'KEYWORD' };
export const LastProgressAttribute: SearchAttributeKey<'DATETIME'> = { name: 'LonghaulLastProgressAt', type: 'DATETIME' };

/** Name → type as the dev server's `--search-attribute` flag and the operator API spell them. */
export const SEARCH_ATTRIBUTES = [
  { name: StatusAttribute.name, cliType: 'Keyword', type: 'KEYWORD' },
  { name: OwnerAttribute.name, cliType: 'Keyword', type: 'KEYWORD' },
  { name: LastProgressAttribute.name, cliType: 'Datetime', type: 'DATETIME' },
] as const;
