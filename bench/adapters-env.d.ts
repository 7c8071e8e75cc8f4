// Types for what bench/adapters*.ts use of autocannon and koa-ratelimit, which ship none.
declare module 'autocannon' {
  namespace autocannon {
    interface Request {
      method?: string;
      path?: string;
      headers?: Record<string, string>;
    }
    interface Options {
      url: string;
      connections?: number;
      duration?: number;
      timeout?: number;
      requests?: Request[];
    }
    interface Result {
      requests: { total: number; average: number };
      latency: { p50: number; p99: number };
      non2xx: number;
      errors: number;
      timeouts: number;
    }
    interface Instance extends Promise<Result> {
      stop(): void;
    }
  }
  function autocannon(options: autocannon.Options): autocannon.Instance;
  export default autocannon;
}

declare module 'koa-ratelimit' {
  function ratelimit(options: {
    driver: 'redis' | 'memory';
    db: unknown;
    duration: number;
    max: number;
    id: (ctx: { path: string }) => string;
  }): (ctx: unknown, next: () => Promise<unknown>) => Promise<void>;
  export default ratelimit;
}
