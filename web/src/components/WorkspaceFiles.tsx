/**
 * The run's workspace: its files (from the durable copy, whichever worker holds it),
 * its state, and each file's content shown as text — never rendered as a page — or downloaded (as
 * an untyped blob: download.ts).
 */
import { useCallback, useEffect, useState } from 'react';
import { client } from '../api';
import { downloadableBlob } from '../download';
import { formatTokens } from '../format';
import type { WorkspaceView } from '../../../contract/api';

/** Shown inline up to this size; larger files are downloads. */
const PREVIEW_MAX_BYTES = 256 * 1024;
const TEXT_TYPE = /^(text\/|application\/(json|xml|yaml|javascript))/;

const STATE_WORDS: Record<NonNullable<WorkspaceView['state']>, string> = {
  active: 'on a worker',
  hibernated: 'hibernated (stored; restored at the next tool call)',
  released: 'released',
};

export function WorkspaceFiles({ runId, version, ended }: { runId: string; version: number; ended: boolean }) {
  const [view, setView] = useState<WorkspaceView | null>(null);
  const [open, setOpen] = useState<{ path: string; text: string | null; url: string | null } | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setView(await client.workspaces.get(runId));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }, [runId]);
  useEffect(() => void load(), [load, version]);
  useEffect(() => () => void (open?.url && URL.revokeObjectURL(open.url)), [open]);

  if (!view || view.state === null) return null;

  async function show(path: string, bytes: number) {
    setError(null);
    try {
      const blob = await client.workspaces.file(runId, path);
      const text = bytes <= PREVIEW_MAX_BYTES && TEXT_TYPE.test(blob.type) ? await blob.text() : null;
      setOpen({ path, text, url: URL.createObjectURL(downloadableBlob(blob)) });
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }

  async function release() {
    try {
      setView(await client.workspaces.release(runId));
      setOpen(null);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }

  return (
    <section className="workspace" aria-label="Workspace" data-testid="workspace">
      <h2>
        Workspace <span className="detail">{STATE_WORDS[view.state]}</span>
      </h2>
      {view.files.length === 0 ? (
        <p className="detail">No files.</p>
      ) : (
        <ul className="files">
          {view.files.map((f) => (
            <li key={f.path}>
              <button type="button" className="link" onClick={() => void show(f.path, f.bytes)}>
                {f.path}
              </button>{' '}
              <span className="detail">{formatTokens(f.bytes)} bytes</span>
            </li>
          ))}
        </ul>
      )}
      {open && (
        <figure className="file-view">
          <figcaption>
            {open.path}{' '}
            {open.url && (
              <a href={open.url} download={open.path.split('/').pop()}>
                Download
              </a>
            )}
          </figcaption>
          {open.text !== null ? <pre data-testid="file-text">{open.text}</pre> : <p className="detail">Not shown here; download it.</p>}
        </figure>
      )}
      {ended && view.state !== 'released' && (
        <button type="button" className="danger" onClick={() => void release()}>
          Release workspace
        </button>
      )}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </section>
  );
}
