// Express 4 and Koa 2 are installed under npm aliases next to Express 5 and Koa 3; their APIs
// are typed by @types/express and @types/koa well enough for the harness.
declare module 'express4' {
  import express = require('express');
  export = express;
}
declare module 'koa2' {
  import Koa = require('koa');
  export = Koa;
}
