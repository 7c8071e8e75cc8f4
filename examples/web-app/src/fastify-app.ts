import type { Store } from '@sluice/core';
import { quota, sluicePlugin } from '@sluice/fastify';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { appLimits, EXPORT_LIMITS, NOTE_LIMITS } from './limits.js';
import { NoteBook } from './notes.js';

/**
 * The notes API on Fastify 5, limited three ways: the plugin over every route registered after
 * it, `config: { sluice: EXPORT_LIMITS }` on `POST /exports`, and
 * `@quota(() => fastify.sluice, NOTE_LIMITS)` on the controller method behind `POST /notes`.
 * `/health` is registered with `config: { sluice: false }`.
 *
 * @example
 * ```ts
 * const app = await fastifyApp(new MemoryStore());
 * await app.listen({ port: 3000 });
 * ```
 */
export async function fastifyApp(store: Store): Promise<FastifyInstance> {
  const fastify = Fastify();
  const notes = new NoteBook();
  await fastify.register(sluicePlugin, appLimits(store));

  class NotesController {
    list(request: FastifyRequest) {
      return notes.list(account(request));
    }

    @quota(() => fastify.sluice, NOTE_LIMITS)
    async create(request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
      const note = notes.add(account(request), (request.body as { text?: unknown } | null)?.text);
      reply.code(note === undefined ? 400 : 201);
      return note ?? { error: 'text: 1 to 1,000 characters' };
    }
  }
  const controller = new NotesController();

  fastify.get('/health', { config: { sluice: false } }, async () => ({ ok: true }));
  fastify.get('/notes', async (request) => controller.list(request));
  fastify.post('/notes', (request, reply) => controller.create(request, reply));
  fastify.post('/exports', { config: { sluice: EXPORT_LIMITS } }, async (request) =>
    notes.export(account(request)),
  );
  return fastify;
}

/** The account sluice identified (the plugin ran before every route but `/health`). */
function account(request: FastifyRequest): string {
  return String(request.sluice!.project.id);
}
