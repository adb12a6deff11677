/**
 * Where each route of the HTTP API lives: method and path, nothing else. Kept apart from the route
 * table's schemas (routes.ts) so the client and the web UI can build URLs without loading zod.
 */

export const ROUTE_PATHS = {
  createRun: { method: 'post', path: '/api/runs' },
  listRuns: { method: 'get', path: '/api/runs' },
  getRun: { method: 'get', path: '/api/runs/{id}' },
  listChildren: { method: 'get', path: '/api/runs/{id}/children' },
  listEvents: { method: 'get', path: '/api/runs/{id}/events' },
  streamRun: { method: 'get', path: '/api/runs/{id}/stream' },
  cancelRun: { method: 'post', path: '/api/runs/{id}/cancel' },
  pauseRun: { method: 'post', path: '/api/runs/{id}/pause' },
  resumeRun: { method: 'post', path: '/api/runs/{id}/resume' },
  decideApproval: { method: 'post', path: '/api/runs/{id}/approvals/{approvalId}' },
  answerInput: { method: 'post', path: '/api/runs/{id}/input' },
  postMessage: { method: 'post', path: '/api/runs/{id}/messages' },
  listDeliveries: { method: 'get', path: '/api/runs/{id}/deliveries' },
  upgradeRun: { method: 'post', path: '/api/runs/{id}/upgrade' },
  listAgents: { method: 'get', path: '/api/agents' },
  getWorkspace: { method: 'get', path: '/api/runs/{id}/workspace' },
  getWorkspaceFile: { method: 'get', path: '/api/runs/{id}/workspace/files/{path}' },
  releaseWorkspace: { method: 'post', path: '/api/runs/{id}/workspace/release' },
  createSchedule: { method: 'post', path: '/api/schedules' },
  listSchedules: { method: 'get', path: '/api/schedules' },
  getSchedule: { method: 'get', path: '/api/schedules/{id}' },
  deleteSchedule: { method: 'delete', path: '/api/schedules/{id}' },
  pauseSchedule: { method: 'post', path: '/api/schedules/{id}/pause' },
  resumeSchedule: { method: 'post', path: '/api/schedules/{id}/resume' },
  triggerSchedule: { method: 'post', path: '/api/schedules/{id}/trigger' },
  listApprovals: { method: 'get', path: '/api/approvals' },
  getApproval: { method: 'get', path: '/api/approvals/{approvalId}' },
  decideApprovalById: { method: 'post', path: '/api/approvals/{approvalId}' },
  getInbox: { method: 'get', path: '/api/inbox' },
  getCapacity: { method: 'get', path: '/api/capacity' },
  getUsage: { method: 'get', path: '/api/usage' },
  wsTicket: { method: 'post', path: '/api/ws-ticket' },
  createApiKey: { method: 'post', path: '/api/keys' },
  listApiKeys: { method: 'get', path: '/api/keys' },
  revokeApiKey: { method: 'delete', path: '/api/keys/{id}' },
  openapi: { method: 'get', path: '/api/openapi.json' },
  getSession: { method: 'get', path: '/api/session' },
  signIn: { method: 'get', path: '/auth/login' },
  signInCallback: { method: 'get', path: '/auth/callback' },
  signOut: { method: 'post', path: '/auth/logout' },
  health: { method: 'get', path: '/healthz' },
  ready: { method: 'get', path: '/readyz' },
  liveSocket: { method: 'get', path: '/ws' },
  slackInteractions: { method: 'post', path: '/slack/interactions' },
  metrics: { method: 'get', path: '/metrics' },
  listTeams: { method: 'get', path: '/api/teams' },
  listTeamMembers: { method: 'get', path: '/api/teams/{team}/members' },
  grantTeamRole: { method: 'put', path: '/api/teams/{team}/members/{user}/{role}' },
  revokeTeamRole: { method: 'delete', path: '/api/teams/{team}/members/{user}/{role}' },
  getTeamBudget: { method: 'get', path: '/api/teams/{team}/budget' },
  setTeamBudget: { method: 'put', path: '/api/teams/{team}/budget' },
} as const;

export type RouteName = keyof typeof ROUTE_PATHS;

/** `/api/runs/{id}` with `{ id: 'run_1' }` → `/api/runs/run_1` (each value URL-encoded). */
export function routePath(name: RouteName, params: Record<string, string> = {}): string {
  return ROUTE_PATHS[name].path.replace(/\{(\w+)\}/g, (_, key: string) => {
    const value = params[key];
    if (value === undefined) throw new Error(`route ${name} needs the path parameter ${key}`);
    return encodeURIComponent(value);
  });
}

/** The links a run's answers carry (created, cancelling, a follow-up accepted). */
export function runLinks(id: string): { self: string; events: string; stream: string; cancel: string } {
  return { self: routePath('getRun', { id }), events: routePath('listEvents', { id }), stream: routePath('streamRun', { id }), cancel: routePath('cancelRun', { id }) };
}
