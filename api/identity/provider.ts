/**
 * The OpenID Provider as this server knows it: its metadata, found once by discovery (`OIDC_ISSUER`/.well-known/
 * openid-configuration) at first use, so the API starts while the provider is still coming up. A failed discovery
 * is tried again at the next use, never cached.
 */
import type { Config } from '../../shared/config';
import { loadOpenIdClient } from './esm';

type OpenIdClient = Awaited<ReturnType<typeof loadOpenIdClient>>;
export type OidcConfig = NonNullable<Config['oidc']>;
export type Discovered = InstanceType<OpenIdClient['Configuration']>;

export class OidcProvider {
  private discovered?: Promise<Discovered>;

  constructor(readonly settings: OidcConfig) {}

  /** openid-client's Configuration for this provider and client. */
  configuration(): Promise<Discovered> {
    this.discovered ??= this.discover().catch((err: unknown) => {
      this.discovered = undefined;
      throw err;
    });
    return this.discovered;
  }

  /** The provider's JWKS URL, from its metadata. */
  async jwksUri(): Promise<URL> {
    const uri = (await this.configuration()).serverMetadata().jwks_uri;
    if (!uri) throw new Error('the provider advertises no jwks_uri');
    return new URL(uri);
  }

  private async discover(): Promise<Discovered> {
    const client = await loadOpenIdClient();
    const s = this.settings;
    const auth = s.clientSecret ? client.ClientSecretBasic(s.clientSecret) : client.None();
    const metadata = { client_id: s.clientId, [client.clockTolerance]: s.clockSkewSec };
    // An http issuer is the operator's explicit choice (a provider on loopback or a private network).
    const insecure = new URL(s.issuer).protocol === 'http:';
    return client.discovery(new URL(s.issuer), s.clientId, metadata, auth, insecure ? { execute: [client.allowInsecureRequests] } : undefined);
  }
}
