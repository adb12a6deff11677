/**
 * The page's API client: the typed Longhaul client (client/), on this origin, with the signed-in
 * user's token, marking its decisions as coming from the web UI. A 401 shows the sign-in form.
 */
import { createLonghaulClient, type ClientOptions } from '../../client';
import { signInRequired, token } from './auth';

export { LonghaulError as ApiError } from '../../client';

const options: ClientOptions = {
  baseUrl: '',
  token: () => token() ?? undefined,
  headers: { 'X-Longhaul-Client': 'web' },
  onUnauthorized: signInRequired,
};

export const client = createLonghaulClient(options);
