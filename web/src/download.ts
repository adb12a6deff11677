/**
 * Agent-written files leave the app only as downloads. A `blob:` URL has the app's origin and the
 * type its blob was given: opened from the Download link, an agent's `report.html` would run as a
 * page of the app, with the signed-in user's token in reach. So the blob handed to a link is
 * always `application/octet-stream`, which browsers save and never render.
 */
export const DOWNLOAD_TYPE = 'application/octet-stream';

/** The same bytes, typed so that no browser renders them. */
export function downloadableBlob(blob: Blob): Blob {
  return new Blob([blob], { type: DOWNLOAD_TYPE });
}
