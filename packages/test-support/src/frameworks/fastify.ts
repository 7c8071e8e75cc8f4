import type { AddressInfo } from 'node:net';
import fastifyCors from '@fastify/cors';
import { quota, sluicePlugin } from '@sluice/fastify';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { loadControllers } from './load-controllers.js';
import {
  APP_EXPOSED_HEADER,
  type AppSpec,
  type Framework,
  flatHeaders,
  handlerReply,
  type TestApp,
} from './types.js';

/** The contract's app on Fastify 5, tested with `fastify.inject()`. */
export function fastifyFramework(name: string): Framework {
  return {
    name,
    async build(spec: AppSpec): Promise<TestApp> {
      const { fastifyController } = await loadControllers();
      // Paths match in any letter case and either slash, as Express and Sentry route them.
      const app = Fastify({
        trustProxy: spec.trustProxy ?? false,
        routerOptions: { caseSensitive: false, ignoreTrailingSlash: true },
      });
      if (spec.cors) {
        await app.register(fastifyCors, { origin: true, exposedHeaders: [APP_EXPOSED_HEADER] });
      }
      await app.register(sluicePlugin, {
        ...spec.options,
        ...(spec.parseBody ? { hook: 'preHandler' as const } : {}),
      });
      const respond = (request: FastifyRequest, via: string) => {
        spec.ran?.(via);
        return handlerReply(request.ip, via, request.sluice);
      };
      const controller = fastifyController(quota, () => app.sluice, spec.decorated ?? {}, respond);
      const ok = async (request: FastifyRequest) => respond(request, 'handler');
      const decorated = (request: FastifyRequest, reply: FastifyReply) =>
        controller.handle(request, reply);
      const solo = { config: { sluice: false as const } };
      app.all('/api/:id/store/', ok);
      app.all('/api/:id/envelope/', ok);
      app.all('/api/:id/routed/', { config: { sluice: spec.route ?? {} } }, ok);
      app.all('/api/:id/decorated/', decorated);
      app.all(
        '/solo/api/:id/routed/',
        { ...solo, onRequest: app.sluice.route(spec.route ?? {}) },
        ok,
      );
      app.all('/solo/api/:id/decorated/', solo, decorated);
      app.all('/api/:id/fail/', async () => {
        throw new Error('handler failed');
      });
      app.all('/api/:id/hang/', (_request, _reply) => undefined);
      await app.ready();
      return {
        limiter: app.sluice.limiter,
        async request({ method = 'GET', path, headers = {}, json }) {
          const res = await app.inject({
            method,
            url: path,
            headers:
              json === undefined ? headers : { ...headers, 'content-type': 'application/json' },
            ...(json === undefined ? {} : { payload: JSON.stringify(json) }),
          });
          return { status: res.statusCode, headers: flatHeaders(res.headers), body: res.body };
        },
        async listen() {
          await app.listen({ port: 0, host: '127.0.0.1' });
          return { server: app.server, port: (app.server.address() as AddressInfo).port };
        },
        async close() {
          await app.close();
        },
      };
    },
  };
}
