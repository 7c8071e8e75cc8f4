/// <reference path="./aliases.d.ts" />
import express from 'express';
import express4 from 'express4';
import Koa from 'koa';
import Koa2 from 'koa2';
import { expressFramework } from './express.js';
import { fastifyFramework } from './fastify.js';
import { koaFramework } from './koa.js';
import type { Framework } from './types.js';

/** Every framework and major version the adapter contract runs against. */
export const FRAMEWORKS: Framework[] = [
  expressFramework('express 5', express, express.json),
  expressFramework('express 4', express4, express4.json),
  koaFramework('koa 3', Koa),
  koaFramework('koa 2', Koa2),
  fastifyFramework('fastify 5'),
];
