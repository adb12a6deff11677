/**
 * The schemas of the sign-in routes' answers (GET /api/session, POST /auth/logout), for the route table and the
 * OpenAPI document; agreed with the types of contract/session.ts, which the web UI reads without loading zod.
 */
import { z } from 'zod';
import { AUTH_METHODS, ROLES } from './identity';
import type { SessionInfo } from './session';

const teamRoleSchema = z.object({ team: z.string(), role: z.enum(ROLES) }).meta({ id: 'TeamRole' });

export const sessionInfoSchema = z
  .object({
    signIn: z.enum(['oidc', 'token', 'open']).describe('`oidc`: sign in at the provider (GET /auth/login); `token`: API_TOKENS only; `open`: no credential needed'),
    user: z
      .object({ id: z.string(), email: z.string().nullable(), name: z.string().nullable(), roles: z.array(teamRoleSchema), method: z.enum(AUTH_METHODS) })
      .optional()
      .describe('The caller, when a credential was presented and accepted'),
    csrfToken: z.string().optional().describe('The session\'s CSRF token, to send in `X-CSRF-Token` with every state-changing request (sessions only)'),
    expiresAt: z.string().meta({ format: 'date-time' }).optional().describe('When the session ends at the latest'),
  })
  .meta({ id: 'SessionInfo' });

export const signOutSchema = z.object({ redirect: z.string().describe('Where to send the browser: the provider\'s end-session URL, or `/`') }).meta({ id: 'SignOut' });

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const agree = <T extends true>(ok: T) => ok;
agree<Same<z.infer<typeof sessionInfoSchema>, SessionInfo>>(true);
