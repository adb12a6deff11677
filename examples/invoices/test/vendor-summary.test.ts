/**
 * vendor_summary, offline: a goal run whose instructions are a function of the run and the deps, using a
 * worker-level tool and a built-in one that its agent never asks approval for.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createTestEnvironment, scriptedModel } from 'longhaul/testing';
import worker from '../src/worker';
import { sampleDeps } from '../src/deps';

test('summarises a vendor from the book into report.md and answers in text, with no approval asked', async () => {
  const deps = sampleDeps();
  const env = await createTestEnvironment({
    worker: { ...worker, deps },
    model: scriptedModel([
      { toolCalls: [{ name: 'list_vendor_invoices', input: { vendor: 'Acme Tools' } }] },
      { toolCalls: [{ name: 'workspace_write', input: { path: 'report.md', content: '# Acme Tools\n- INV-1 open $42.00\n- INV-2 open $1,250.00\n' } }] },
      { text: 'Acme Tools has two open invoices totalling $1,292.00. The summary is in report.md.' },
    ]),
  });
  after(() => env.close());

  const run = await env.startRun({ agent: 'vendor_summary', goal: 'How much do we owe Acme Tools?', owner: 'dana' });
  const outcome = await run.result();

  assert.equal(outcome.output, null, 'an agent without an output schema has no structured output');
  assert.match(outcome.result ?? '', /two open invoices/);
  // workspace_write is a write, which the default policy asks about: the agent's `never` let it run.
  assert.deepEqual((await run.events('approval.requested')), []);
  assert.deepEqual((await run.toolCalls()).map((c) => [c.name, c.outcome]), [
    ['list_vendor_invoices', 'completed'],
    ['workspace_write', 'completed'],
  ]);
  assert.match((await run.toolCalls())[0]!.result ?? '', /INV-2/);

  // The instructions function ran with the run and the deps: the owner and the book's vendors.
  const [first] = env.modelRequests();
  assert.ok(first);
  assert.match(first.system, /You help dana/);
  assert.match(first.system, /Acme Tools, Northwind Paper/);
  assert.deepEqual(first.tools.map((t) => t.name).sort(), ['list_vendor_invoices', 'workspace_write']);
});
