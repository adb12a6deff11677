/**
 * Where Longhaul may send requests on its own (the http_request tool, webhooks): only http(s), only
 * to hosts an operator listed (`host` or `host:port`), never following redirects (the callers pass
 * `redirect: 'manual'`). One rule for every outbound request, so none is looser than the others.
 */
export class AllowedHosts {
  private readonly hosts: Set<string>;

  constructor(hosts: string[]) {
    this.hosts = new Set(hosts.map((h) => h.toLowerCase()));
  }

  get list(): string[] {
    return [...this.hosts];
  }

  /** Why `url` may not be called, or null when it may. */
  refusal(url: URL, setting: string): string | null {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'only http and https URLs are allowed';
    if (!this.hosts.has(url.host.toLowerCase()) && !this.hosts.has(url.hostname.toLowerCase())) return `host ${url.host} is not in ${setting}`;
    return null;
  }
}
