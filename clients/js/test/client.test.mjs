// The client against a scripted fetch that speaks the service's protocol (status codes, problem documents,
// Retry-After, per-event results). Run with `node --test test/` after `npm run build`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SessionRecClient, retryAfterMs } from "../dist/sessionrec.js";

const key = "srp_0123456789abcdef0123456789abcdef0123456789abcdef";

/** A fetch that answers from a script of handlers (one per call; the last repeats) and records every call. */
function scriptedFetch(...handlers) {
  const calls = [];
  const fetch = async (url, init = {}) => {
    const call = { url, init, body: init.body ? JSON.parse(init.body) : undefined, at: Date.now() };
    calls.push(call);
    const handler = handlers[Math.min(calls.length - 1, handlers.length - 1)];
    return handler(call);
  };
  return { fetch, calls };
}

/** The service's answer to POST /v1/events: every event accepted. */
function accepted(call) {
  const results = call.body.events.map((e) => ({ event_id: e.event_id, status: "accepted" }));
  return json(200, { accepted: results.length, duplicates: 0, rejected: 0, results });
}

function json(status, body, headers = {}) {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

function problem(status, title, detail, headers = {}) {
  return new Response(JSON.stringify({ status, title, detail }), { status, headers: { "content-type": "application/problem+json", ...headers } });
}

function memoryStorage() {
  const map = new Map();
  return {
    map,
    getItem: (k) => (map.has(k) ? map.get(k) : null),
    setItem: (k, v) => map.set(k, String(v)),
    removeItem: (k) => map.delete(k),
  };
}

function client(fetch, options = {}) {
  return new SessionRecClient({
    endpoint: "http://shop.test/",
    key,
    fetch,
    storage: memoryStorage(),
    flushDelayMs: 5,
    retryBaseMs: 10,
    retryMaxMs: 40,
    suggestDebounceMs: 20,
    ...options,
  });
}

async function until(condition, what, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

test("tracked events go out in one batch with ids, the user, the session and the key in the header only", async () => {
  const { fetch, calls } = scriptedFetch(accepted);
  const seen = [];
  const c = client(fetch, { userId: "shopper-1", onTrack: (e) => seen.push(e) });

  const ids = [c.view("a"), c.addToCart("a"), c.search("red lipstick")];
  assert.deepEqual(seen.map((e) => e.event_id), ids);
  await until(() => c.pending === 0, "the batch to be acknowledged");

  assert.equal(calls.length, 1);
  assert.equal(calls[0].url, "http://shop.test/v1/events");
  assert.equal(calls[0].init.method, "POST");
  assert.equal(calls[0].init.headers.authorization, `Bearer ${key}`);
  assert.ok(!calls[0].url.includes(key));
  assert.deepEqual(calls[0].body.events.map((e) => e.event_id), ids);
  assert.deepEqual(calls[0].body.events.map((e) => [e.type, e.item_id, e.query]), [
    ["view", "a", undefined],
    ["add_to_cart", "a", undefined],
    ["search", undefined, "red lipstick"],
  ]);
  assert.ok(calls[0].body.events.every((e) => e.user_id === "shopper-1" && e.session_id === c.sessionId));
  assert.equal(new Set(ids).size, 3);
});

test("a full batch is sent at once and the rest follows in later requests", async () => {
  const { fetch, calls } = scriptedFetch(accepted);
  const c = client(fetch, { batchSize: 2, flushDelayMs: 60_000 });

  c.view("a");
  c.view("b");
  c.view("c");
  await until(() => calls.length >= 1, "the full batch");
  assert.equal(calls[0].body.events.length, 2);
  await c.flush();
  assert.equal(c.pending, 0);
  assert.deepEqual(calls.map((call) => call.body.events.length), [2, 1]);
  c.close();
});

test("a network failure and a 503 are retried with the same event ids, after Retry-After", async () => {
  const errors = [];
  const { fetch, calls } = scriptedFetch(
    () => {
      throw new TypeError("fetch failed");
    },
    () => problem(503, "Service unavailable", "The cluster is starting.", { "retry-after": "1" }),
    accepted,
  );
  const c = client(fetch, { onError: (e) => errors.push(e) });

  const id = c.click("a");
  await until(() => c.pending === 0, "delivery after two failures", 10_000);

  assert.equal(calls.length, 3);
  assert.deepEqual(calls.map((call) => call.body.events[0].event_id), [id, id, id]);
  assert.ok(calls[2].at - calls[1].at >= 950, `Retry-After: 1 was honoured (${calls[2].at - calls[1].at} ms)`);
  assert.deepEqual(errors.map((e) => e.status), [0, 503]);
  assert.deepEqual(errors[1].eventIds, [id]);
});

test("429s back off exponentially up to the maximum", async () => {
  const tooMany = () => problem(429, "Too many requests", "slow down");
  const { fetch, calls } = scriptedFetch(tooMany, tooMany, tooMany, tooMany, tooMany, tooMany, accepted);
  const c = client(fetch, { retryBaseMs: 40, retryMaxMs: 60 });

  c.view("a");
  await until(() => c.pending === 0, "delivery after six 429s", 10_000);

  const gaps = calls.slice(1).map((call, i) => call.at - calls[i].at);
  assert.equal(gaps.length, 6);
  // Jittered between half and all of 40, then 60 ms (capped): at least 20 and 30 ms.
  [20, 30, 30, 30, 30, 30].forEach((least, i) => assert.ok(gaps[i] >= least - 2, `gap ${i} was ${gaps[i]} ms, at least ${least}`));
  // Uncapped, the sixth delay would be 40 × 2^5 = 1,280 ms (at least 640 with jitter).
  assert.ok(gaps[5] < 600, `capped at retryMaxMs (${gaps[5]} ms)`);
});

test("events the service refuses are reported and dropped, duplicates count as delivered", async () => {
  const errors = [];
  const { fetch } = scriptedFetch((call) => {
    const [first, second] = call.body.events;
    return json(200, {
      accepted: 0,
      duplicates: 1,
      rejected: 1,
      results: [
        { event_id: first.event_id, status: "duplicate" },
        { event_id: second.event_id, status: "rejected", reason: "item_id must be at most 256 characters." },
      ],
    });
  });
  const c = client(fetch, { onError: (e) => errors.push(e) });

  c.view("a");
  const bad = c.view("x".repeat(300));
  await until(() => c.pending === 0, "the batch to be settled");

  assert.equal(errors.length, 1);
  assert.equal(errors[0].title, "Event refused");
  assert.match(errors[0].detail, /item_id/);
  assert.deepEqual(errors[0].eventIds, [bad]);
});

test("clicks on served items carry the list's request id and position; explicit ones win; others carry none", async () => {
  const { fetch, calls } = scriptedFetch(
    () => json(200, {
      request_id: "r-1",
      model_version: "baseline-cooc-1",
      user_id: "u",
      k: 2,
      items: [
        { item_id: "a", position: 1, score: 1, source: "cooccurrence", reason: "viewed with x" },
        { item_id: "b", position: 2, score: 0.5, source: "popularity", reason: "popular" },
      ],
    }),
    accepted,
  );
  const c = client(fetch, { userId: "u" });

  const recs = await c.recommend({ k: 2, contextItem: "x" });
  assert.equal(recs.request_id, "r-1");
  assert.equal(calls[0].url, "http://shop.test/v1/users/u/recommendations?k=2&context_item=x");
  c.click("b");
  c.addToCart("a");
  c.click("a", { requestId: "r-0", position: 7 });
  c.click("not-served");
  await until(() => c.pending === 0, "delivery");

  const sent = calls[1].body.events.map((e) => [e.type, e.item_id, e.request_id, e.position]);
  assert.deepEqual(sent, [
    ["click", "b", "r-1", 2],
    ["add_to_cart", "a", "r-1", 1],
    ["click", "a", "r-0", 7],
    ["click", "not-served", undefined, undefined],
  ]);
});

test("recommend with details reads the items in one request", async () => {
  const { fetch, calls } = scriptedFetch(
    () => json(200, { request_id: "r", model_version: "m", user_id: "u", k: 2, items: [
      { item_id: "a", position: 1, score: 1, source: "popularity", reason: "" },
      { item_id: "gone", position: 2, score: 1, source: "popularity", reason: "" },
    ] }),
    () => json(200, { items: [{ id: "a", title: "Red lipstick", categories: [], attributes: {}, available: true, updated_at: "2026-12-01T00:00:00Z" }] }),
  );
  const c = client(fetch, { userId: "u" });

  const recs = await c.recommend({ details: true });

  assert.equal(calls[1].url, "http://shop.test/v1/items?ids=a,gone");
  assert.equal(recs.items[0].item.title, "Red lipstick");
  assert.equal(recs.items[1].item, undefined);
});

test("suggest is debounced: a burst of keystrokes asks once, for the last prefix, and earlier calls resolve null", async () => {
  const { fetch, calls } = scriptedFetch((call) => json(200, {
    request_id: "rq",
    model_version: "suggest-kg-1",
    user_id: "u",
    query: new URL(call.url).searchParams.get("q"),
    suggestions: [{ text: "lipstick", position: 1, source: "completion", entities: [], rationale: "" }],
  }));
  const c = client(fetch, { userId: "u" });

  const answers = await Promise.all([c.suggest("l"), c.suggest("li"), c.suggest("lip")]);

  assert.equal(calls.length, 1);
  assert.equal(new URL(calls[0].url).searchParams.get("q"), "lip");
  assert.deepEqual(answers.map((a) => a?.query ?? null), [null, null, "lip"]);
});

test("a newer suggest aborts the one in flight and a slow old answer is never shown", async () => {
  let releaseSlow;
  const { fetch, calls } = scriptedFetch(
    (call) => new Promise((resolve, reject) => {
      releaseSlow = () => resolve(json(200, { request_id: "old", model_version: "m", user_id: "u", query: "l", suggestions: [] }));
      call.init.signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
    }),
    () => json(200, { request_id: "new", model_version: "m", user_id: "u", query: "lip", suggestions: [] }),
  );
  const c = client(fetch, { userId: "u" });

  const first = c.suggest("l");
  await until(() => calls.length === 1, "the first request to be in flight");
  const second = c.suggest("lip");

  assert.equal(await first, null);
  assert.ok(calls[0].init.signal.aborted, "the superseded request was aborted");
  releaseSlow();
  assert.equal((await second).request_id, "new");
});

test("a suggestion click names the answer that showed it", async () => {
  const { fetch, calls } = scriptedFetch(
    () => json(200, { request_id: "rq-9", model_version: "m", user_id: "u", query: "li", suggestions: [
      { text: "lip gloss", position: 1, source: "completion", entities: [], rationale: "" },
      { text: "lipstick", position: 2, source: "completion", entities: [], rationale: "" },
    ] }),
    accepted,
  );
  const c = client(fetch, { userId: "u" });

  const answer = await c.suggest("li");
  c.suggestionClick(answer.suggestions[1]);
  await until(() => c.pending === 0, "delivery");

  const [event] = calls[1].body.events;
  assert.deepEqual([event.type, event.query, event.request_id, event.position], ["suggestion_click", "lipstick", "rq-9", 2]);
});

test("on page exit the queue is sent with keepalive and kept in storage; the next page sends what did not arrive, with the same ids", async () => {
  const storage = memoryStorage();
  const down = scriptedFetch(() => {
    throw new TypeError("connection refused");
  });
  const page1 = client(down.fetch, { storage, userId: "u", flushDelayMs: 60_000 });
  const ids = [page1.view("a"), page1.addToCart("a")];

  page1.flushOnExit();
  page1.close();
  await until(() => down.calls.length === 1, "the keepalive request");
  assert.equal(down.calls[0].init.keepalive, true);
  assert.deepEqual(JSON.parse(storage.getItem("sessionrec.queue")).map((e) => e.event_id), ids);

  const up = scriptedFetch(accepted);
  const page2 = client(up.fetch, { storage, userId: "u" });
  await until(() => page2.pending === 0, "the next page to deliver the stored events");
  assert.deepEqual(up.calls[0].body.events.map((e) => e.event_id), ids);
  assert.equal(storage.getItem("sessionrec.queue"), null);
});

test("the user id and the session id are kept in storage; the session is renewed after the inactivity timeout", () => {
  const storage = memoryStorage();
  let now = 1_000_000;
  const { fetch } = scriptedFetch(accepted);
  const first = client(fetch, { storage, now: () => now, flushOnPageHide: false, flushDelayMs: 60_000 });
  first.view("a");
  const session = first.sessionId;

  const again = client(fetch, { storage, now: () => now, flushOnPageHide: false, flushDelayMs: 60_000 });
  assert.equal(again.userId, first.userId);
  assert.match(again.userId, /^u-[0-9a-f-]{36}$/);
  assert.equal(again.sessionId, session);

  now += 31 * 60_000;
  assert.notEqual(again.sessionId, session);
  first.close();
  again.close();
});

test("the queue is bounded: the oldest events are dropped and reported", () => {
  const errors = [];
  const { fetch } = scriptedFetch(accepted);
  const c = client(fetch, { maxQueue: 2, flushDelayMs: 60_000, onError: (e) => errors.push(e) });

  const first = c.view("a");
  c.view("b");
  c.view("c");

  assert.equal(c.pending, 2);
  assert.deepEqual(errors.map((e) => [e.title, e.eventIds]), [["Queue full", [first]]]);
  c.close();
});

test("errors never carry the key", async () => {
  const errors = [];
  const { fetch } = scriptedFetch((call) => {
    throw new TypeError(`fetch to ${call.url} with ${call.init.headers.authorization} failed`);
  });
  const c = client(fetch, { onError: (e) => errors.push(e), retryBaseMs: 60_000 });

  await assert.rejects(c.recommend(), (e) => !e.message.includes(key) && e.status === 0);
  c.view("a");
  await until(() => errors.length > 0, "the delivery failure to be reported");
  assert.ok(errors.every((e) => !e.message.includes(key) && !(e.detail ?? "").includes(key)));
  c.close();
});

test("a recommendation request the service refuses rejects with its problem", async () => {
  const { fetch } = scriptedFetch(() => problem(403, "Wrong kind of key", "A publishable key may only post events and read recommendations, suggestions and items."));
  const c = client(fetch);

  await assert.rejects(c.recommend(), (e) => e.status === 403 && e.title === "Wrong kind of key");
  c.close();
});

test("Retry-After is read as seconds or as an HTTP date", () => {
  assert.equal(retryAfterMs("2", 0), 2000);
  assert.equal(retryAfterMs(new Date(10_000).toUTCString(), 4_000), 6_000);
  assert.equal(retryAfterMs("soon", 0), undefined);
  assert.equal(retryAfterMs(null, 0), undefined);
});
