// SessionRec's browser client: recommendations, search-box suggestions and event tracking for a storefront.
//
// What it takes care of, so that a shop does not lose data:
// - every event gets its id when it is tracked and keeps it through every retry, so the service's deduplication
//   makes a retry harmless (an event is logged once however often it is sent);
// - events wait in a bounded in-memory queue, go out in batches, and are retried with exponential backoff on a
//   network failure, 429 or 5xx (honouring Retry-After); the queue is also kept in localStorage, so events a
//   closing page could not deliver are sent by the next page;
// - on page hide the queue is flushed with fetch(..., {keepalive: true}) (sendBeacon cannot send the key header);
// - clicks, add-to-carts and purchases of items the service served carry that list's request_id and position;
// - suggest() is debounced, aborts the request it supersedes and never resolves with a stale answer;
// - the key is sent in the Authorization header only: it is never logged, put in a URL or in an error.
// Use a publishable key (scope "publishable"): it may post events and read recommendations, suggestions and items.

export type EventType = "view" | "click" | "add_to_cart" | "purchase" | "search" | "suggestion_click";

/** An event as it is queued and sent (the service's wire names). */
export interface TrackedEvent {
  event_id: string;
  user_id: string;
  session_id: string;
  type: EventType;
  item_id?: string;
  query?: string;
  request_id?: string;
  position?: number;
}

export interface RecommendationItem {
  item_id: string;
  position: number;
  score: number;
  source: string;
  reason: string;
  round?: number;
  /** The catalogue item, when recommend() was asked for details. */
  item?: Item;
}

export interface Recommendations {
  request_id: string;
  model_version: string;
  user_id: string;
  session_id?: string;
  k: number;
  items: RecommendationItem[];
}

export interface Suggestion {
  text: string;
  position: number;
  source: string;
  entities: { id: string; name: string }[];
  rationale: string;
}

export interface Suggestions {
  request_id: string;
  model_version: string;
  user_id: string;
  query: string;
  suggestions: Suggestion[];
  llm?: string;
}

export interface Item {
  id: string;
  title: string;
  brand?: string;
  categories: string[];
  attributes: Record<string, string>;
  price?: number;
  available: boolean;
  updated_at: string;
}

/** The part of the Storage interface the client uses (localStorage in a browser). */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface ClientOptions {
  /** The service's base URL; "" (the default) is the page's own origin. */
  endpoint?: string;
  /** A publishable key of the tenant. */
  key: string;
  /** The shopper's id; by default a random id kept in storage (never an e-mail address or a name). */
  userId?: string;
  /** Where the user id, the session and undelivered events are kept; default localStorage, null for nowhere. */
  storage?: KeyValueStore | null;
  fetch?: typeof fetch;
  /** Events per POST (the service takes up to 1,000). Default 50. */
  batchSize?: number;
  /** How long a tracked event waits for others to share its request. Default 500 ms. */
  flushDelayMs?: number;
  /** Events kept at most; past it the oldest are dropped and reported. Default 1,000. */
  maxQueue?: number;
  /** The pause after a keystroke before suggest() asks. Default 150 ms. */
  suggestDebounceMs?: number;
  /** A session ends after this long without an event (the service's Sessions:InactivityTimeout). Default 30 min. */
  sessionTimeoutMs?: number;
  /** First retry delay, doubled on each failure up to retryMaxMs, with jitter. Defaults 500 ms and 30 s. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** A request that takes longer is abandoned (and, for events, retried). Default 10 s. */
  timeoutMs?: number;
  /** Flush on page hide (pagehide, visibilitychange); default true where there is a window. */
  flushOnPageHide?: boolean;
  /** Told of events the service refused, events dropped from a full queue and failed deliveries. */
  onError?: (error: SessionRecError) => void;
  /** Told of every event as it is queued, with the attribution the client added (a page's own ledger or debugging). */
  onTrack?: (event: Readonly<TrackedEvent>) => void;
  /** The clock (tests). */
  now?: () => number;
}

/** A failed call: HTTP status (0 for a network failure) and the service's problem title and detail. */
export class SessionRecError extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail?: string;
  readonly eventIds: string[];

  constructor(status: number, title: string, detail?: string, eventIds: string[] = []) {
    super(detail ? `${title}: ${detail}` : title);
    this.name = "SessionRecError";
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.eventIds = eventIds;
  }
}

interface Served {
  requestId: string;
  position: number;
}

interface StoredSession {
  id: string;
  last: number;
}

interface EventResult {
  event_id?: string;
  status: string;
  reason?: string;
}

const storageKeys = {
  user: "sessionrec.user",
  session: "sessionrec.session",
  queue: "sessionrec.queue",
};

/** Served items remembered for attribution; the oldest are forgotten first. */
const maxServed = 500;

/** Keep-alive requests may carry 64 KB in all; batches sent on page hide stay under this. */
const keepaliveBytes = 60_000;

export class SessionRecClient {
  readonly userId: string;

  private readonly endpoint: string;
  private readonly key: string;
  private readonly storage: KeyValueStore | null;
  private readonly fetchImpl: typeof fetch;
  private readonly batchSize: number;
  private readonly flushDelayMs: number;
  private readonly maxQueue: number;
  private readonly suggestDebounceMs: number;
  private readonly sessionTimeoutMs: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly timeoutMs: number;
  private readonly onError: (error: SessionRecError) => void;
  private readonly onTrack: (event: Readonly<TrackedEvent>) => void;
  private readonly now: () => number;

  private queue: TrackedEvent[] = [];
  private readonly served = new Map<string, Served>();
  private sending: Promise<void> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private timerDue = 0;
  private failures = 0;
  private retryAt = 0;
  private session: StoredSession | null = null;

  private suggestSeq = 0;
  private suggestTimer: ReturnType<typeof setTimeout> | null = null;
  private suggestAbort: AbortController | null = null;
  private suggestSettle: ((value: Suggestions | null) => void) | null = null;
  private lastSuggestions: Suggestions | null = null;
  private detach: (() => void) | null = null;

  constructor(options: ClientOptions) {
    if (!options || !options.key) {
      throw new SessionRecError(0, "Missing key", "new SessionRecClient({ key }) needs the tenant's publishable key.");
    }

    this.endpoint = (options.endpoint ?? "").replace(/\/+$/, "");
    this.key = options.key;
    this.storage = options.storage === undefined ? defaultStorage() : options.storage;
    const f = options.fetch ?? globalThis.fetch;
    this.fetchImpl = (input, init) => f(input, init);
    this.batchSize = Math.min(Math.max(options.batchSize ?? 50, 1), 1000);
    this.flushDelayMs = options.flushDelayMs ?? 500;
    this.maxQueue = Math.max(options.maxQueue ?? 1000, 1);
    this.suggestDebounceMs = options.suggestDebounceMs ?? 150;
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 30 * 60_000;
    this.retryBaseMs = options.retryBaseMs ?? 500;
    this.retryMaxMs = options.retryMaxMs ?? 30_000;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.onError = options.onError ?? (() => {});
    this.onTrack = options.onTrack ?? (() => {});
    this.now = options.now ?? (() => Date.now());
    this.userId = options.userId ?? this.storedUserId();

    // Events an earlier page tracked but could not deliver go first, with their ids (a resend is a duplicate at
    // worst, which the service drops).
    this.queue = this.readStoredQueue();
    if (this.queue.length > 0) {
      this.schedule(0);
    }

    if (options.flushOnPageHide ?? typeof window !== "undefined") {
      this.attachPageHide();
    }
  }

  /** The id of the shopper's current session, kept in storage; a new one after sessionTimeoutMs without events. */
  get sessionId(): string {
    return this.currentSession(false).id;
  }

  /** Events tracked and not yet acknowledged by the service. */
  get pending(): number {
    return this.queue.length;
  }

  /**
   * Recommendations for the shopper's live session; contextItem is the item on screen ("people also viewed").
   * With details, each recommended item carries its catalogue entry (one more request for the whole list).
   */
  async recommend(options: {
    k?: number;
    contextItem?: string;
    exclude?: string[];
    details?: boolean;
    signal?: AbortSignal;
  } = {}): Promise<Recommendations> {
    const query = new URLSearchParams();
    if (options.k !== undefined) query.set("k", String(options.k));
    if (options.contextItem) query.set("context_item", options.contextItem);
    if (options.exclude && options.exclude.length > 0) query.set("exclude", options.exclude.join(","));
    const response = await this.getJson<Recommendations>(`/v1/users/${encodeURIComponent(this.userId)}/recommendations?${query}`, options.signal);
    for (const item of response.items) {
      this.remember(item.item_id, { requestId: response.request_id, position: item.position });
    }

    if (options.details && response.items.length > 0) {
      const items = await this.items(response.items.map((i) => i.item_id), options.signal);
      const byId = new Map(items.map((i) => [i.id, i]));
      for (const item of response.items) {
        item.item = byId.get(item.item_id);
      }
    }

    return response;
  }

  /** Catalogue items by id (up to 100), in the order asked; ids not in the catalogue are left out. */
  async items(ids: string[], signal?: AbortSignal): Promise<Item[]> {
    if (ids.length === 0) return [];
    const response = await this.getJson<{ items: Item[] }>(`/v1/items?ids=${ids.map(encodeURIComponent).join(",")}`, signal);
    return response.items;
  }

  /**
   * Suggestions for what the shopper is typing (q may be empty). Debounced: a call made within suggestDebounceMs of
   * the next one never reaches the service. A newer call aborts an older one in flight. A superseded call resolves
   * with null, so a slow answer to an old prefix never replaces the answer to the newest.
   */
  suggest(q: string, options: { k?: number; contextItem?: string } = {}): Promise<Suggestions | null> {
    const seq = ++this.suggestSeq;
    this.cancelSuggestions(false);
    return new Promise<Suggestions | null>((resolve, reject) => {
      this.suggestSettle = resolve;
      this.suggestTimer = setTimeout(async () => {
        this.suggestTimer = null;
        const abort = new AbortController();
        this.suggestAbort = abort;
        const query = new URLSearchParams({ q });
        if (options.k !== undefined) query.set("k", String(options.k));
        if (options.contextItem) query.set("context_item", options.contextItem);
        try {
          const response = await this.getJson<Suggestions>(`/v1/users/${encodeURIComponent(this.userId)}/suggestions?${query}`, abort.signal);
          if (seq !== this.suggestSeq) {
            resolve(null);
            return;
          }

          this.lastSuggestions = response;
          this.suggestSettle = null;
          resolve(response);
        } catch (error) {
          if (seq !== this.suggestSeq || abort.signal.aborted) {
            resolve(null);
          } else {
            this.suggestSettle = null;
            reject(error);
          }
        } finally {
          if (this.suggestAbort === abort) this.suggestAbort = null;
        }
      }, this.suggestDebounceMs);
    });
  }

  /** Stops a pending suggest() (the box lost focus, the shopper pressed Escape); it resolves with null. */
  cancelSuggestions(supersede = true): void {
    if (supersede) this.suggestSeq++;
    if (this.suggestTimer !== null) {
      clearTimeout(this.suggestTimer);
      this.suggestTimer = null;
    }

    this.suggestAbort?.abort();
    this.suggestAbort = null;
    const settle = this.suggestSettle;
    this.suggestSettle = null;
    settle?.(null);
  }

  /**
   * Queues an event; returns its id. Clicks, add-to-carts and purchases of an item the service served (in
   * recommend()) carry that list's request_id and position unless given.
   */
  track(type: EventType, fields: { itemId?: string; query?: string; requestId?: string; position?: number } = {}): string {
    const event: TrackedEvent = {
      event_id: newId("e"),
      user_id: this.userId,
      session_id: this.currentSession(true).id,
      type,
    };
    if (fields.itemId !== undefined) event.item_id = fields.itemId;
    if (fields.query !== undefined) event.query = fields.query;
    let requestId = fields.requestId;
    let position = fields.position;
    if (requestId === undefined && fields.itemId !== undefined && (type === "click" || type === "add_to_cart" || type === "purchase")) {
      const served = this.served.get(fields.itemId);
      if (served) {
        requestId = served.requestId;
        position = position ?? served.position;
      }
    }

    if (requestId !== undefined) event.request_id = requestId;
    if (position !== undefined) event.position = position;

    this.queue.push(event);
    this.onTrack({ ...event });
    if (this.queue.length > this.maxQueue) {
      const dropped = this.queue.splice(0, this.queue.length - this.maxQueue);
      this.onError(new SessionRecError(0, "Queue full", `${dropped.length} undelivered event(s) dropped: the queue keeps ${this.maxQueue}.`, dropped.map((e) => e.event_id)));
    }

    this.persistQueue();
    this.schedule(this.queue.length >= this.batchSize ? 0 : this.flushDelayMs);
    return event.event_id;
  }

  view(itemId: string): string {
    return this.track("view", { itemId });
  }

  click(itemId: string, attribution: { requestId?: string; position?: number } = {}): string {
    return this.track("click", { itemId, ...attribution });
  }

  addToCart(itemId: string): string {
    return this.track("add_to_cart", { itemId });
  }

  purchase(itemId: string): string {
    return this.track("purchase", { itemId });
  }

  search(query: string): string {
    return this.track("search", { query });
  }

  /** The shopper picked a suggestion: attributed to the suggestions answer that showed it. */
  suggestionClick(suggestion: Suggestion | string): string {
    const text = typeof suggestion === "string" ? suggestion : suggestion.text;
    const shown = this.lastSuggestions?.suggestions.find((s) => s.text === text);
    return this.track("suggestion_click", {
      query: text,
      requestId: shown ? this.lastSuggestions!.request_id : undefined,
      position: shown?.position,
    });
  }

  /**
   * Sends queued events now, batch after batch, until the queue is empty or a delivery fails (it is then retried
   * with backoff). Resolves with the number of events still queued.
   */
  async flush(): Promise<number> {
    while (this.queue.length > 0 && this.now() >= this.retryAt) {
      if (!this.sending) {
        this.sending = this.sendBatch().finally(() => {
          this.sending = null;
        });
      }

      const before = this.failures;
      await this.sending;
      if (this.failures > before) break;
    }

    return this.queue.length;
  }

  /**
   * The page is going away: keeps the queue in storage (the next page sends what does not arrive) and sends it with
   * keep-alive requests, which the browser completes after the page has gone.
   */
  flushOnExit(): void {
    this.persistQueue();
    if (this.queue.length === 0) return;
    let batch: TrackedEvent[] = [];
    let bytes = 0;
    const sendKeepalive = (events: TrackedEvent[]) => {
      this.post(events, true).then(
        (outcome) => this.settle(events, outcome),
        () => {},
      );
    };
    for (const event of this.queue) {
      const size = JSON.stringify(event).length + 1;
      if (batch.length > 0 && (bytes + size > keepaliveBytes || batch.length >= this.batchSize)) {
        sendKeepalive(batch);
        batch = [];
        bytes = 0;
      }

      batch.push(event);
      bytes += size;
    }

    if (batch.length > 0) sendKeepalive(batch);
  }

  /** Stops listening for page hide and cancels timers (a single-page app replacing its client). */
  close(): void {
    this.detach?.();
    this.detach = null;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.cancelSuggestions();
  }

  private schedule(delayMs: number): void {
    const at = Math.max(this.now() + delayMs, this.retryAt);
    if (this.timer !== null) {
      if (this.timerDue <= at) return;
      clearTimeout(this.timer);
    }

    this.timerDue = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush().then((left) => {
        if (left > 0) this.schedule(this.flushDelayMs);
      });
    }, Math.max(0, at - this.now()));
  }

  private async sendBatch(): Promise<void> {
    const batch = this.queue.slice(0, this.batchSize);
    let outcome: PostOutcome;
    try {
      outcome = await this.post(batch, false);
    } catch {
      outcome = { kind: "retry", error: new SessionRecError(0, "Network failure", "The service could not be reached; the events are kept and retried.") };
    }

    this.settle(batch, outcome);
  }

  /** Applies a delivery's outcome to the queue: acknowledged and refused events leave it, the rest are retried. */
  private settle(batch: TrackedEvent[], outcome: PostOutcome): void {
    if (outcome.kind === "done") {
      const sent = new Set(batch.map((e) => e.event_id));
      this.queue = this.queue.filter((e) => !sent.has(e.event_id));
      this.failures = 0;
      this.retryAt = 0;
      const refused = outcome.results.filter((r) => r.status === "rejected");
      for (const r of refused) {
        this.onError(new SessionRecError(400, "Event refused", r.reason ?? "The service refused the event.", r.event_id ? [r.event_id] : []));
      }

      this.persistQueue();
      return;
    }

    if (outcome.kind === "refused") {
      // The service refused the whole batch as malformed: sending it again cannot succeed.
      const sent = new Set(batch.map((e) => e.event_id));
      this.queue = this.queue.filter((e) => !sent.has(e.event_id));
      this.persistQueue();
      this.onError(new SessionRecError(outcome.error.status, outcome.error.title, outcome.error.detail, [...sent]));
      return;
    }

    this.failures++;
    const backoff = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** (this.failures - 1));
    const jittered = backoff / 2 + Math.random() * (backoff / 2);
    this.retryAt = this.now() + Math.max(jittered, outcome.retryAfterMs ?? 0);
    this.onError(new SessionRecError(outcome.error.status, outcome.error.title, outcome.error.detail, batch.map((e) => e.event_id)));
    this.schedule(0);
  }

  private async post(events: TrackedEvent[], keepalive: boolean): Promise<PostOutcome> {
    const response = await this.request("/v1/events", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ events }),
      keepalive,
    });
    if (response.ok) {
      const body = (await response.json()) as { results?: EventResult[] };
      return { kind: "done", results: body.results ?? [] };
    }

    const error = await toError(response);
    if (response.status === 429 || response.status === 408 || response.status >= 500 || response.status === 401 || response.status === 403) {
      // 401/403: a key revoked or mistyped; keep the events until it is fixed rather than lose them.
      return { kind: "retry", error, retryAfterMs: retryAfterMs(response.headers.get("retry-after"), this.now()) };
    }

    return { kind: "refused", error };
  }

  private async getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
    const response = await this.request(path, { method: "GET", signal });
    if (!response.ok) throw await toError(response);
    return (await response.json()) as T;
  }

  private async request(path: string, init: RequestInit): Promise<Response> {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.timeoutMs);
    const outer = init.signal;
    const onAbort = () => timeout.abort();
    outer?.addEventListener("abort", onAbort);
    if (outer?.aborted) timeout.abort();
    try {
      return await this.fetchImpl(this.endpoint + path, {
        ...init,
        signal: timeout.signal,
        headers: { ...(init.headers as Record<string, string> | undefined), authorization: `Bearer ${this.key}` },
      });
    } catch (error) {
      if (outer?.aborted) throw error;
      // Never pass on the browser's error text: it may quote the request, and the request carries the key.
      throw new SessionRecError(0, timeout.signal.aborted ? "Timeout" : "Network failure", `The service did not answer ${path.split("?")[0]}.`);
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener("abort", onAbort);
    }
  }

  private remember(itemId: string, served: Served): void {
    this.served.delete(itemId);
    this.served.set(itemId, served);
    if (this.served.size > maxServed) {
      this.served.delete(this.served.keys().next().value as string);
    }
  }

  private currentSession(touch: boolean): StoredSession {
    const now = this.now();
    const known = this.session ?? readJson<StoredSession>(this.storage, storageKeys.session);
    const expired = !known || typeof known.id !== "string" || now - known.last > this.sessionTimeoutMs;
    if (!expired && !touch) {
      this.session = known;
      return known;
    }

    // A new session, or the current one used now: written back, so that the next page continues it.
    this.session = { id: expired ? newId("s") : known.id, last: now };
    writeJson(this.storage, storageKeys.session, this.session);
    return this.session;
  }

  private storedUserId(): string {
    const stored = safeGet(this.storage, storageKeys.user);
    if (stored) return stored;
    const id = newId("u");
    safeSet(this.storage, storageKeys.user, id);
    return id;
  }

  private readStoredQueue(): TrackedEvent[] {
    const stored = readJson<TrackedEvent[]>(this.storage, storageKeys.queue);
    return Array.isArray(stored) ? stored.filter((e) => e && typeof e.event_id === "string" && e.user_id === this.userId).slice(-this.maxQueue) : [];
  }

  private persistQueue(): void {
    if (this.queue.length === 0) {
      try {
        this.storage?.removeItem(storageKeys.queue);
      } catch {
        // Storage can be unavailable (private mode, quota): the in-memory queue still delivers.
      }
    } else {
      writeJson(this.storage, storageKeys.queue, this.queue);
    }
  }

  private attachPageHide(): void {
    if (typeof window === "undefined" || typeof window.addEventListener !== "function") return;
    const onHide = () => this.flushOnExit();
    const onVisibility = () => {
      if (document.visibilityState === "hidden") this.flushOnExit();
    };
    const doc = typeof document === "undefined" ? null : document;
    window.addEventListener("pagehide", onHide);
    doc?.addEventListener("visibilitychange", onVisibility);
    this.detach = () => {
      window.removeEventListener("pagehide", onHide);
      doc?.removeEventListener("visibilitychange", onVisibility);
    };
  }
}

type PostOutcome =
  | { kind: "done"; results: EventResult[] }
  | { kind: "retry"; error: SessionRecError; retryAfterMs?: number }
  | { kind: "refused"; error: SessionRecError };

async function toError(response: Response): Promise<SessionRecError> {
  let title = `HTTP ${response.status}`;
  let detail: string | undefined;
  try {
    const problem = (await response.json()) as { title?: string; detail?: string };
    title = problem.title ?? title;
    detail = problem.detail;
  } catch {
    // Not a problem document (a proxy's error page): the status says enough.
  }

  return new SessionRecError(response.status, title, detail);
}

/** Retry-After in seconds or as an HTTP date, in milliseconds from now; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function newId(prefix: string): string {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === "function") return `${prefix}-${c.randomUUID()}`;
  const bytes = new Uint8Array(16);
  if (c && typeof c.getRandomValues === "function") c.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  return `${prefix}-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function defaultStorage(): KeyValueStore | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    return null; // a sandboxed frame may refuse access
  }
}

function safeGet(storage: KeyValueStore | null, key: string): string | null {
  try {
    return storage?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

function safeSet(storage: KeyValueStore | null, key: string, value: string): void {
  try {
    storage?.setItem(key, value);
  } catch {
    // Quota or privacy mode: the client works from memory.
  }
}

function readJson<T>(storage: KeyValueStore | null, key: string): T | null {
  const text = safeGet(storage, key);
  if (!text) return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

function writeJson(storage: KeyValueStore | null, key: string, value: unknown): void {
  safeSet(storage, key, JSON.stringify(value));
}
