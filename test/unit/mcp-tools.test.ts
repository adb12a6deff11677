/** How MCP tools are named, which risk their annotations give them, and what the model reads back. */
import { mcpToolName, resultText, riskFromAnnotations } from '../../activities/tools/mcp-tools';

describe('MCP tools as Longhaul tools', () => {
  it('names them mcp__<server>__<tool>', () => {
    expect(mcpToolName('crm', 'save_note')).toBe('mcp__crm__save_note');
  });

  it.each([
    [{ readOnlyHint: true }, 'read'],
    [{ readOnlyHint: true, destructiveHint: true }, 'read'],
    [{ destructiveHint: true }, 'irreversible'],
    [{ readOnlyHint: false, destructiveHint: false }, 'write'],
    [undefined, 'write'],
  ] as const)('takes risk from annotations %j → %s', (annotations, risk) => {
    expect(riskFromAnnotations(annotations)).toBe(risk);
  });

  it('reads text parts as text, names other parts, and falls back to structured content', () => {
    expect(resultText({ content: [{ type: 'text', text: 'a' }, { type: 'image', data: 'AAAA', mimeType: 'image/png' }, { type: 'text', text: 'b' }] })).toBe('a\n[image image/png]\nb');
    expect(resultText({ content: [], structuredContent: { ok: true } })).toBe('{\n  "ok": true\n}');
  });
});
