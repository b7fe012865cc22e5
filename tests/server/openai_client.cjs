// Drives a running `bitnet serve` with the official openai npm client: models, completions
// and chat, whole and streamed, log-probabilities, seeds, the errors the client maps to its
// exception classes, and a stream the client abandons halfway.
// Usage: OPENAI_MODULE=<dir of the openai package> node openai_client.cjs BASE_URL API_KEY
'use strict';
const assert = require('node:assert/strict');
const OpenAI = require(process.env.OPENAI_MODULE);

const [baseURL, apiKey] = process.argv.slice(2);
let checks = 0;
function check(condition, what) {
  assert.ok(condition, what);
  ++checks;
}

async function collect(stream, pick) {
  let text = '';
  let finish = null;
  let usage = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices[0];
    if (!choice) continue;
    text += pick(choice) ?? '';
    if (choice.finish_reason) finish = choice.finish_reason;
  }
  return { text, finish, usage };
}

async function main() {
  const client = new OpenAI({ baseURL: `${baseURL}/v1`, apiKey, maxRetries: 0, timeout: 60000 });

  const models = await client.models.list();
  check(models.data.length === 1 && models.data[0].object === 'model', 'one model listed');
  const model = models.data[0].id;

  const ask = { model, prompt: 'hello world', max_tokens: 8, temperature: 0 };
  const c = await client.completions.create(ask);
  check(c.object === 'text_completion', 'completion object');
  check(typeof c.choices[0].text === 'string', 'completion text');
  check(['stop', 'length'].includes(c.choices[0].finish_reason), 'completion finish_reason');
  check(c.usage.completion_tokens >= 1 && c.usage.completion_tokens <= 8, 'completion usage');
  const streamed = await collect(await client.completions.create({ ...ask, stream: true }),
                                 (choice) => choice.text);
  check(streamed.text === c.choices[0].text, 'streamed completion = whole completion');
  check(streamed.finish === c.choices[0].finish_reason, 'streamed finish_reason');

  const chatAsk = {
    model,
    messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hi there' }],
    max_tokens: 8,
    temperature: 0,
  };
  const chat = await client.chat.completions.create(chatAsk);
  check(chat.object === 'chat.completion', 'chat object');
  check(chat.choices[0].message.role === 'assistant', 'assistant role');
  const chatStream = await collect(
    await client.chat.completions.create({
      ...chatAsk, stream: true, stream_options: { include_usage: true },
    }),
    (choice) => choice.delta.content);
  check(chatStream.text === chat.choices[0].message.content, 'streamed chat = whole chat');
  check(chatStream.usage && chatStream.usage.completion_tokens === chat.usage.completion_tokens,
        'stream usage');

  const lp = await client.chat.completions.create({ ...chatAsk, logprobs: true, top_logprobs: 2 });
  const content = lp.choices[0].logprobs.content;
  check(content.length === lp.usage.completion_tokens, 'one logprob per token');
  check(content.every((t) => t.logprob <= 0 && t.top_logprobs.length === 2), 'top logprobs');

  const seeded = { model, prompt: 'the', max_tokens: 12, temperature: 1.5, seed: 42 };
  const a = await client.completions.create(seeded);
  const b = await client.completions.create(seeded);
  check(a.choices[0].text === b.choices[0].text, 'same seed, same text');

  await assert.rejects(client.completions.create({ model, prompt: 'x', max_tokens: 1000000 }),
    (e) => e instanceof OpenAI.BadRequestError && e.code === 'context_length_exceeded');
  ++checks;
  await assert.rejects(client.completions.create({ model, prompt: 'x', n: 2 }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'n');
  ++checks;
  await assert.rejects(client.chat.completions.create({ model, messages: 'hi' }),
    (e) => e instanceof OpenAI.BadRequestError && e.code === 'invalid_type' &&
           e.type === 'invalid_request_error');
  ++checks;
  const stranger = new OpenAI({ baseURL: `${baseURL}/v1`, apiKey: 'not-the-key', maxRetries: 0 });
  await assert.rejects(stranger.models.list(),
    (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
  ++checks;
  await assert.rejects(client.models.retrieve('no-such-model'),
    (e) => e instanceof OpenAI.NotFoundError);
  ++checks;

  // Leaving a stream early closes the connection; the server frees the slot. ignore_eos: a
  // sampled end of text in the first two tokens ended this stream before it could be left
  // (one CI run in many).
  const long = await client.completions.create({ model, prompt: 'go', max_tokens: 200,
                                                 stream: true, ignore_eos: true });
  let seen = 0;
  for await (const chunk of long) {
    if (chunk.choices[0] && ++seen === 2) break;
  }
  check(seen === 2, 'abandoned a stream after two chunks');
  const after = await client.completions.create({ ...ask, max_tokens: 2 });
  check(after.usage.completion_tokens >= 1, 'served after an abandoned stream');

  console.log(`openai client: ${checks} checks passed`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
