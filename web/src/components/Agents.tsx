import { useEffect, useState } from 'react';
import { sortAgents, type AgentVersionView, type AgentView } from '../agents';
import { ApiError, client } from '../api';
import { formatAge, shortVersion } from '../format';
import { DEFAULT_AGENT } from '../../../contract/agents';

/** A tool's approval override in words (null: it follows the policy by risk). */
const APPROVAL_WORDS = { always: 'always asks', never: 'never asks', by_risk: 'by risk' } as const;
const RISK_WORDS = { read: 'read', write: 'write', irreversible: 'irreversible', by_input: 'decided per call' } as const;

/**
 * Every agent the workers have published: what it is for, the version new runs get and the older
 * ones runs may still be pinned to, its tools with their risk, its input and output schemas, and
 * the live workers that serve it.
 */
export function Agents() {
  const [agents, setAgents] = useState<AgentView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [now, setNow] = useState(() => Date.now());

  useEffect(() => {
    client.agents.list().then(
      (res) => {
        setAgents(sortAgents(res.agents, DEFAULT_AGENT));
        setNow(Date.now());
      },
      (err: unknown) => {
        if (!(err instanceof ApiError && err.status === 401)) setError(err instanceof Error ? err.message : String(err));
      },
    );
  }, []);

  return (
    <section aria-labelledby="agents-title" className="agents">
      <h1 id="agents-title">Agents</h1>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {agents === null ? (
        !error && <p>Loading…</p>
      ) : agents.length === 0 ? (
        <p>No agents yet: a worker publishes the agents it serves when it starts.</p>
      ) : (
        agents.map((a) => <Agent key={a.name} agent={a} now={now} />)
      )}
    </section>
  );
}

function Agent({ agent, now }: { agent: AgentView; now: number }) {
  const current = agent.versions.find((v) => v.version === agent.currentVersion);
  // Newest first: the versions runs may still be pinned to.
  const older = agent.versions.filter((v) => v !== current).reverse();
  return (
    <article className="agent" aria-labelledby={`agent-${agent.name}`} data-testid="agent" data-agent={agent.name}>
      <h2 id={`agent-${agent.name}`}>{agent.name}</h2>
      {agent.description && <p>{agent.description}</p>}
      <dl className="facts">
        <div>
          <dt>Current version</dt>
          <dd data-testid="current-version">
            {agent.currentVersion ? <code title={agent.currentVersion}>{shortVersion(agent.currentVersion)}</code> : 'none published yet'}
          </dd>
        </div>
        {current && (
          <>
            <div>
              <dt>Model</dt>
              <dd>{current.model.default}</dd>
            </div>
            <div>
              <dt>Approvals</dt>
              <dd>{current.approvals}</dd>
            </div>
          </>
        )}
      </dl>

      {current && <VersionDetails version={current} />}

      <h3>Workers serving it</h3>
      {agent.workers.length === 0 ? (
        <p className="detail" data-testid="no-workers">
          No live worker serves this agent: its runs wait queued until one does.
        </p>
      ) : (
        <table data-testid="workers">
          <thead>
            <tr>
              <th scope="col">Worker</th>
              <th scope="col">Version</th>
              <th scope="col">Last seen</th>
            </tr>
          </thead>
          <tbody>
            {agent.workers.map((w) => (
              <tr key={w.identity}>
                <td>
                  <code>{w.identity}</code>
                </td>
                <td>
                  <code title={w.version}>{shortVersion(w.version)}</code>
                </td>
                <td>
                  <time dateTime={w.seenAt} title={new Date(w.seenAt).toLocaleString()}>
                    {formatAge(w.seenAt, now)}
                  </time>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      {older.length > 0 && (
        <details data-testid="older-versions">
          <summary>Older versions ({older.length})</summary>
          {older.map((v) => (
            <div key={v.version}>
              <h4>
                <code title={v.version}>{shortVersion(v.version)}</code>{' '}
                <span className="detail">
                  published <time dateTime={v.publishedAt}>{new Date(v.publishedAt).toLocaleString()}</time>
                </span>
              </h4>
              <VersionDetails version={v} />
            </div>
          ))}
        </details>
      )}
    </article>
  );
}

/** One version's tools and schemas. */
function VersionDetails({ version }: { version: AgentVersionView }) {
  return (
    <>
      <details data-testid="tools">
        <summary>Tools ({version.tools.length})</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">Tool</th>
              <th scope="col">Risk</th>
              <th scope="col">Approval</th>
              <th scope="col">From</th>
            </tr>
          </thead>
          <tbody>
            {version.tools.map((t) => (
              <tr key={t.name} data-tool={t.name}>
                <td>
                  <code>{t.name}</code>
                  {t.description && <div className="detail">{t.description}</div>}
                </td>
                <td>{RISK_WORDS[t.risk] ?? t.risk}</td>
                <td>{APPROVAL_WORDS[t.approval ?? 'by_risk']}</td>
                <td>{t.source}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
      <details data-testid="input-schema">
        <summary>Input schema</summary>
        {version.inputSchema ? <pre>{JSON.stringify(version.inputSchema, null, 2)}</pre> : <p className="detail">None: a run takes a goal.</p>}
      </details>
      <details data-testid="output-schema">
        <summary>Output schema</summary>
        {version.outputSchema ? <pre>{JSON.stringify(version.outputSchema, null, 2)}</pre> : <p className="detail">None: the final answer is text.</p>}
      </details>
    </>
  );
}
