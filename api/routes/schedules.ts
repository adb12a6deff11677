/** /api/schedules: scheduled runs (create, list, read, delete, pause, resume, trigger). Contract: docs/api.md. */
import { Router } from 'express';
import { createScheduleBody } from '../../contract/api';
import { principalOf } from '../auth';
import type { ScheduleService } from '../schedule-service';
import { parseOr400 } from '../schemas';

export function schedulesRouter(deps: { schedules: ScheduleService }): Router {
  const router = Router();
  const { schedules } = deps;

  router.post('/', async (req, res) => {
    const body = parseOr400(createScheduleBody, req.body, 'invalid_request');
    res.status(201).json(await schedules.create(principalOf(req), body));
  });

  router.get('/', async (req, res) => {
    res.json({ schedules: await schedules.list(principalOf(req)) });
  });

  router.get('/:id', async (req, res) => {
    res.json(await schedules.get(principalOf(req), req.params.id));
  });

  router.delete('/:id', async (req, res) => {
    await schedules.delete(principalOf(req), req.params.id);
    res.status(204).end();
  });

  for (const action of ['pause', 'resume', 'trigger'] as const) {
    router.post(`/:id/${action}`, async (req, res) => {
      res.status(action === 'trigger' ? 202 : 200).json(await schedules.control(principalOf(req), req.params.id, action));
    });
  }
  return router;
}
