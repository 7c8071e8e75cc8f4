import type { Server } from 'node:http';
import type { Store } from '@sluice/core';
import { quota, sluice } from '@sluice/express';
import express, { type NextFunction, type Request, type Response } from 'express';
import { appLimits, EXPORT_LIMITS, NOTE_LIMITS } from './limits.js';
import { NoteBook } from './notes.js';

/**
 * The notes API on Express (4 or 5), limited three ways: `app.use(limiter)` over every route,
 * `limiter.route(EXPORT_LIMITS)` on `POST /exports`, and `@quota(limiter, NOTE_LIMITS)` on the
 * controller method behind `POST /notes`.
 *
 * @example
 * ```ts
 * const server = await expressApp(new MemoryStore())(3000);
 * ```
 */
export function expressApp(store: Store): (port: number) => Promise<Server> {
  const limiter = sluice(appLimits(store));
  const notes = new NoteBook();

  class NotesController {
    list(req: Request, res: Response) {
      res.json(notes.list(account(req)));
    }

    @quota(limiter, NOTE_LIMITS)
    create(req: Request, res: Response, _next: NextFunction): void {
      const note = notes.add(account(req), (req.body as { text?: unknown } | undefined)?.text);
      if (note === undefined) res.status(400).json({ error: 'text: 1 to 1,000 characters' });
      else res.status(201).json(note);
    }
  }
  const controller = new NotesController();

  const app = express();
  app.get('/health', (_req, res) => {
    res.json({ ok: true });
  });
  app.use(express.json(), limiter);
  app.get('/notes', (req, res) => controller.list(req, res));
  app.post('/notes', (req, res, next) => controller.create(req, res, next));
  app.post('/exports', limiter.route(EXPORT_LIMITS), async (req, res, next) => {
    try {
      res.json(await notes.export(account(req)));
    } catch (error) {
      next(error);
    }
  });
  return (port) =>
    new Promise((resolve) => {
      const server = app.listen(port, '127.0.0.1', () => resolve(server));
    });
}

/** The account sluice identified (the limiter ran before every route but `/health`). */
function account(req: Request): string {
  return String(req.sluice!.project.id);
}
