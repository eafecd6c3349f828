#!/usr/bin/env node
// Test driver: calls the official Testmo JS binding (@testmo/testmo-api) against a
// live Charter server and reports, as JSON, what the binding parsed.
//
// Input (stdin, JSON):
//   {"base_url": "http://127.0.0.1:PORT", "token": "...",
//    "calls": [{"api": "SessionsApi", "method": "getSessionPage",
//               "args": [1, {"isClosed": false, "createdAfter": {"$date": "2024-..Z"}}],
//               "token": "optional override"}]}
// Arguments are JSON; an object {"$date": iso} becomes a JS Date (the binding then
// sends date.toJSON()).
//
// Output (stdout, JSON): one entry per call, in order:
//   {"ok": true, "status": 200, "path": "/api/v1/...?...", "content_type": "...",
//    "text": "<raw body>", "data": <tagged parsed model>}
//   {"ok": false, "status": 404, "path": ..., "text": "<raw body>", "error": "..."}
// The parsed model is tagged so that Python can see what the binding built:
//   Date            -> {"$date": "<toJSON()>"} ({"$date": null} for an invalid Date)
//   NaN / Infinity  -> {"$nonfinite": "NaN"}
//   undefined       -> {"$undefined": true}
//   model instance  -> {"$class": "Session", "$fields": [declared fields], ...own keys}
"use strict";

const testmo = require("@testmo/testmo-api");

function decodeArg(value) {
  if (Array.isArray(value)) return value.map(decodeArg);
  if (value !== null && typeof value === "object") {
    if (Object.keys(value).length === 1 && typeof value.$date === "string") {
      const date = new Date(value.$date);
      if (Number.isNaN(date.getTime())) throw new Error(`invalid $date argument ${value.$date}`);
      return date;
    }
    const out = {};
    for (const [key, item] of Object.entries(value)) out[key] = decodeArg(item);
    return out;
  }
  return value;
}

function tag(value) {
  if (value === null) return null;
  if (value === undefined) return { $undefined: true };
  if (value instanceof Date) {
    return { $date: Number.isNaN(value.getTime()) ? null : value.toJSON() };
  }
  if (typeof value === "number") {
    return Number.isFinite(value) ? value : { $nonfinite: String(value) };
  }
  if (typeof value === "string" || typeof value === "boolean") return value;
  if (Array.isArray(value)) return value.map(tag);
  if (typeof value === "object") {
    const ctor = value.constructor;
    const name = ctor && ctor !== Object ? ctor.name : null;
    const out = { $class: name };
    if (name && testmo[name] === ctor) {
      // Generated models declare each field on the prototype.
      out.$fields = Object.keys(ctor.prototype);
    }
    for (const key of Object.keys(value)) out[key] = tag(value[key]);
    return out;
  }
  return { $unsupported: typeof value };
}

// The generated models also carry a validateJSON(raw) check (array fields are arrays,
// string fields are strings); run it on the raw body too. null = passed.
function validate(data, text) {
  const ctor = data && data.constructor;
  if (!ctor || typeof ctor.validateJSON !== "function") return "no validateJSON for response model";
  try {
    ctor.validateJSON(JSON.parse(text));
    return null;
  } catch (err) {
    return String(err && err.message ? err.message : err);
  }
}

function requestPath(response) {
  const req = response && response.req;
  return req && typeof req.path === "string" ? req.path : null;
}

async function runCall(call, input) {
  const client = new testmo.ApiClient(input.base_url);
  client.authentications.bearerAuth.accessToken = call.token ?? input.token;
  client.timeout = 30000;
  const Api = testmo[call.api];
  if (typeof Api !== "function") throw new Error(`unknown api ${call.api}`);
  const api = new Api(client);
  const method = `${call.method}WithHttpInfo`;
  if (typeof api[method] !== "function") throw new Error(`unknown method ${call.api}.${call.method}`);
  const args = decodeArg(call.args || []);
  try {
    const { data, response } = await api[method](...args);
    return {
      ok: true,
      status: response.status,
      path: requestPath(response),
      content_type: response.headers["content-type"] ?? null,
      text: response.text,
      data: tag(data),
      validation: validate(data, response.text),
    };
  } catch (err) {
    if (err && err.response) {
      return {
        ok: false,
        status: err.status,
        path: requestPath(err.response),
        content_type: err.response.headers["content-type"] ?? null,
        text: err.response.text,
        body: err.body === undefined ? null : err.body,
        error: String(err.error),
      };
    }
    // Not an HTTP error: the binding itself failed (e.g. while parsing a response).
    return {
      ok: false,
      status: null,
      error: String(err && err.error ? err.error : err),
      stack: err && err.stack ? String(err.stack) : null,
    };
  }
}

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  const results = [];
  for (const call of input.calls) results.push(await runCall(call, input));
  process.stdout.write(JSON.stringify(results));
}

main().catch((err) => {
  process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
  process.exit(2);
});
