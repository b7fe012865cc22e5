// A small load client for `bitnet serve` (Node's own http, no packages): C workers send N
// streamed completions in all, over kept-alive connections, and it prints one JSON line with
// throughput, p50/p99 latency and time to first token, and the errors seen.
// Usage: node tools/server-load.cjs URL CONCURRENCY REQUESTS MAX_TOKENS
'use strict';
const http = require('node:http');

const [url, concurrency, requests, maxTokens] = process.argv.slice(2);
const C = Number(concurrency), N = Number(requests), M = Number(maxTokens);
const agent = new http.Agent({ keepAlive: true, maxSockets: C });
const words = ['the', 'jury', 'said', 'a', 'city', 'of', 'hello', 'world', 'report', 'time'];

function one(i) {
  const prompt = Array.from({ length: 8 }, (_, k) => words[(i * 7 + k * 3) % words.length]);
  const body = JSON.stringify({
    prompt: prompt.join(' '), max_tokens: M, temperature: 0.8, seed: i, stream: true,
    stream_options: { include_usage: true },
  });
  const start = process.hrtime.bigint();
  return new Promise((resolve) => {
    const req = http.request(`${url}/v1/completions`, {
      method: 'POST', agent, headers: { 'Content-Type': 'application/json' },
    }, (res) => {
      let first = null, tokens = 0, done = false, buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        if (first === null) first = process.hrtime.bigint();
        buffer += chunk;
        let at;
        while ((at = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          if (event === 'data: [DONE]') done = true;
          else if (event.startsWith('data: {')) {
            const u = JSON.parse(event.slice(6)).usage;
            if (u) tokens = u.completion_tokens;
          }
        }
      });
      res.on('end', () => {
        const end = process.hrtime.bigint();
        resolve({
          ok: res.statusCode === 200 && done, status: res.statusCode, tokens,
          ms: Number(end - start) / 1e6, ttft: first ? Number(first - start) / 1e6 : NaN,
        });
      });
    });
    req.on('error', (e) => resolve({ ok: false, status: e.code, tokens: 0, ms: NaN, ttft: NaN }));
    req.end(body);
  });
}

function pct(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : NaN;
}

async function main() {
  const results = [];
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: C }, async () => {
    while (next < N) results.push(await one(next++));
  }));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const ok = results.filter((r) => r.ok);
  const errors = {};
  for (const r of results) if (!r.ok) errors[r.status] = (errors[r.status] || 0) + 1;
  const ms = ok.map((r) => r.ms).sort((a, b) => a - b);
  const ttft = ok.map((r) => r.ttft).sort((a, b) => a - b);
  const tokens = ok.reduce((s, r) => s + r.tokens, 0);
  const round = (x) => Math.round(x * 10) / 10;
  console.log(JSON.stringify({
    concurrency: C, requests: N, ok: ok.length, errors, seconds: round(seconds),
    requests_per_s: round(ok.length / seconds), tokens_per_s: round(tokens / seconds),
    latency_ms: { p50: round(pct(ms, 0.5)), p99: round(pct(ms, 0.99)) },
    ttft_ms: { p50: round(pct(ttft, 0.5)), p99: round(pct(ttft, 0.99)) },
  }));
  agent.destroy();
}

main();
