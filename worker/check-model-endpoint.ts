/**
 * Once at worker start: does the model endpoint answer, and does it take the key? One `models.list`
 * call. A worker that cannot reach its model says so in one clear line now, instead of the first
 * run failing minutes later. It does not stop the worker: the endpoint may come back.
 */
import { AnthropicModel } from '../activities/model/anthropic-model';
import { modelFetch } from '../activities/model/http-transport';
import { describeModelError } from '../activities/model/classify-error';
import type { Config } from '../shared/config';
import type { Logger } from '../shared/logger';

const CHECK_TIMEOUT_MS = 10_000;

export async function checkModelEndpoint(config: Config, logger: Logger): Promise<boolean> {
  if (!config.model.apiKey) return true;
  const model = new AnthropicModel({ apiKey: config.model.apiKey, baseUrl: config.model.baseUrl, fetch: modelFetch(config.model.httpClient), requestTimeoutMs: CHECK_TIMEOUT_MS });
  try {
    const models = await model.check();
    logger.info({ host: model.host, models: models.length }, 'model endpoint answers and accepts the key');
    return true;
  } catch (err) {
    const e = describeModelError(err, model.host);
    logger.error(
      { host: model.host, code: e.code, status: e.status },
      `model endpoint check failed at ${model.host}: ${e.status ? `${e.status} ` : ''}${e.message} (model calls will fail until ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL work)`,
    );
    return false;
  }
}
