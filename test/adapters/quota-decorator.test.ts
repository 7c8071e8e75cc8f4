// The quota decorators' own errors; their behaviour runs in the contract (controllers compiled
// by TypeScript). A decorator is a function: here it is called as TypeScript's output calls it.
import { InvalidConfiguration } from '@sluice/core';
import { quota as expressQuota } from '@sluice/express';
import { quota as fastifyQuota } from '@sluice/fastify';
import { quota as koaQuota } from '@sluice/koa';
import { describe, expect, it } from 'vitest';

const optionOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidConfiguration);
    return (error as InvalidConfiguration).option;
  }
  return undefined;
};

describe('quota decorators', () => {
  it('Express and Koa: a missing limiter is an InvalidConfiguration when the class is defined', () => {
    expect(optionOf(() => expressQuota(undefined as never, {}))).toBe('limiter');
    expect(optionOf(() => koaQuota({} as never, {}))).toBe('limiter');
  });

  it('Fastify: a getter that gives no fastify.sluice fails when the controller is constructed', () => {
    const initializers: Array<() => void> = [];
    const context = { addInitializer: (init: () => void) => initializers.push(init) };
    const decorate = fastifyQuota(() => undefined as never, {});
    decorate(async () => undefined, context as never);
    const construct = () => {
      for (const init of initializers) init();
    };
    expect(optionOf(construct)).toBe('limiter');
  });
});
