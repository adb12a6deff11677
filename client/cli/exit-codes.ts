/**
 * The `longhaul` command's exit codes, for scripts: defined once, used by the commands and by the watch printer
 * (which cannot import main.ts, its importer).
 */
export const EXIT = {
  ok: 0,
  /** The watched run failed or was cancelled. */
  runFailed: 1,
  usage: 2,
  /** The API refused the request (4xx). */
  refused: 3,
  /** The server could not be reached, or failed (5xx). */
  unreachable: 4,
  /** While watching, the credential stopped working (LONGHAUL_TOKEN revoked or expired): get a new one. */
  credentialEnded: 5,
  /** While watching, the caller's roles changed so that they may no longer see the run (`run_access_ended`). */
  runAccessEnded: 6,
} as const;
