/**
 * A run's workspace as the rest of Longhaul sees it: its lifecycle states and the manifest of a
 * version (what a file browser lists, and what a worker restores from). Pure: safe in the sandbox.
 */

/** `active`: materialised on a worker's disk; `hibernated`: only the durable copy exists; `released`: gone. */
export const WORKSPACE_STATES = ['active', 'hibernated', 'released'] as const;
export type WorkspaceState = (typeof WORKSPACE_STATES)[number];

/** One entry of a workspace version: a file (by content hash) or a directory (kept even when empty). */
export type ManifestEntry =
  | { path: string; kind: 'file'; hash: string; size: number; mode: number; mtimeMs: number }
  | { path: string; kind: 'dir'; mode: number };

/** Why a workspace's durable copy was deleted. */
export const WORKSPACE_RELEASE_REASONS = ['retention', 'request'] as const;
export type WorkspaceReleaseReason = (typeof WORKSPACE_RELEASE_REASONS)[number];
