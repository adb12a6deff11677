import { assertSafeBind } from '../../api/server';
import { ConfigError, loadConfig } from '../../shared/config';

describe('binding the API', () => {
  it('refuses to expose an open API (no API_TOKENS) beyond loopback', () => {
    expect(() => assertSafeBind(loadConfig({ HOST: '0.0.0.0' }))).toThrow(ConfigError);
    expect(() => assertSafeBind(loadConfig({ HOST: '0.0.0.0' }))).toThrow(/set API_TOKENS/);
  });

  it('allows loopback without tokens, and any address with them', () => {
    for (const host of ['127.0.0.1', '::1', 'localhost']) expect(() => assertSafeBind(loadConfig({ HOST: host }))).not.toThrow();
    expect(() => assertSafeBind(loadConfig({ HOST: '0.0.0.0', API_TOKENS: 'a-long-enough-token:alice' }))).not.toThrow();
  });
});
