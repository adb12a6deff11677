import { useEffect, useState } from 'react';
import { client } from '../api';
import { lineDiff } from '../diff';
import { pretty } from '../format';

type WriteInput = { path: string; content: string };
type HttpInput = { method: string; url: string; headers?: Record<string, string>; body?: string };

const isWrite = (tool: string | null, v: unknown): v is WriteInput =>
  tool === 'workspace_write' && typeof v === 'object' && v !== null && typeof (v as WriteInput).path === 'string' && typeof (v as WriteInput).content === 'string';
const isHttp = (tool: string | null, v: unknown): v is HttpInput =>
  tool === 'http_request' && typeof v === 'object' && v !== null && typeof (v as HttpInput).method === 'string' && typeof (v as HttpInput).url === 'string';

/**
 * A tool's input as people read it: a file write as the file's text (and what changes, when the
 * file exists), an HTTP call as the request — with the raw JSON one click away. Never cut: long
 * input scrolls.
 */
export function ToolInput({ tool, input, runId }: { tool: string | null; input: unknown; runId: string }) {
  const [raw, setRaw] = useState(false);
  const readable = isWrite(tool, input) || isHttp(tool, input);
  return (
    <div className="tool-input" data-testid="tool-input">
      {raw || !readable ? (
        <pre data-testid="raw-input">{pretty(input)}</pre>
      ) : isWrite(tool, input) ? (
        <FileWrite input={input} runId={runId} />
      ) : (
        <HttpRequest input={input as HttpInput} />
      )}
      {readable && (
        <button type="button" className="link-button" onClick={() => setRaw(!raw)} aria-pressed={raw}>
          {raw ? 'Readable view' : 'Raw JSON'}
        </button>
      )}
    </div>
  );
}

function FileWrite({ input, runId }: { input: WriteInput; runId: string }) {
  // The file as the workspace holds it now: undefined while asking, null when there is none.
  const [before, setBefore] = useState<string | null | undefined>(undefined);
  useEffect(() => {
    let live = true;
    client.workspaces
      .file(runId, input.path)
      .then((blob) => blob.text())
      .then(
        (text) => live && setBefore(text),
        () => live && setBefore(null),
      );
    return () => {
      live = false;
    };
  }, [runId, input.path]);
  const diff = before ? lineDiff(before, input.content) : null;
  return (
    <div className="file-write">
      <p>
        {before ? 'Replace' : 'Create'} <code data-testid="write-path">{input.path}</code> ({new Blob([input.content]).size.toLocaleString()} bytes)
      </p>
      {diff ? (
        <pre className="diff" data-testid="write-diff" aria-label={`Changes to ${input.path}`}>
          {diff.map((l, i) => (
            <span key={i} className={`diff-${l.op}`}>
              {l.op === 'add' ? '+ ' : l.op === 'del' ? '- ' : '  '}
              {l.text}
              {'\n'}
            </span>
          ))}
        </pre>
      ) : (
        <pre className="file-text" data-testid="write-content">
          {input.content}
        </pre>
      )}
    </div>
  );
}

function HttpRequest({ input }: { input: HttpInput }) {
  let body = input.body;
  if (body) {
    try {
      body = JSON.stringify(JSON.parse(body), null, 2);
    } catch {
      // not JSON: shown as sent
    }
  }
  return (
    <pre className="http-request" data-testid="http-request">
      <strong>
        {input.method} {input.url}
      </strong>
      {'\n'}
      {Object.entries(input.headers ?? {}).map(([k, v]) => `${k}: ${v}\n`)}
      {body !== undefined && `\n${body}`}
    </pre>
  );
}
