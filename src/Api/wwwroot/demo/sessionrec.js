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
/** A failed call: HTTP status (0 for a network failure) and the service's problem title and detail. */
export class SessionRecError extends Error {
    constructor(status, title, detail, eventIds = []) {
        super(detail ? `${title}: ${detail}` : title);
        this.name = "SessionRecError";
        this.status = status;
        this.title = title;
        this.detail = detail;
        this.eventIds = eventIds;
    }
}
const storageKeys = {
    user: "sessionrec.user",
    session: "sessionrec.session",
    queue: "sessionrec.queue",
};
/** Served items remembered for attribution; the oldest are forgotten first. */
const maxServed = 500;
/** Keep-alive requests may carry 64 KB in all; batches sent on page hide stay under this. */
const keepaliveBytes = 60000;
export class SessionRecClient {
    constructor(options) {
        this.queue = [];
        this.served = new Map();
        this.sending = null;
        this.timer = null;
        this.timerDue = 0;
        this.failures = 0;
        this.retryAt = 0;
        this.session = null;
        this.suggestSeq = 0;
        this.suggestTimer = null;
        this.suggestAbort = null;
        this.suggestSettle = null;
        this.lastSuggestions = null;
        this.detach = null;
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
        this.sessionTimeoutMs = options.sessionTimeoutMs ?? 30 * 60000;
        this.retryBaseMs = options.retryBaseMs ?? 500;
        this.retryMaxMs = options.retryMaxMs ?? 30000;
        this.timeoutMs = options.timeoutMs ?? 10000;
        this.onError = options.onError ?? (() => { });
        this.onTrack = options.onTrack ?? (() => { });
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
    get sessionId() {
        return this.currentSession(false).id;
    }
    /** Events tracked and not yet acknowledged by the service. */
    get pending() {
        return this.queue.length;
    }
    /**
     * Recommendations for the shopper's live session; contextItem is the item on screen ("people also viewed").
     * With details, each recommended item carries its catalogue entry (one more request for the whole list).
     */
    async recommend(options = {}) {
        const query = new URLSearchParams();
        if (options.k !== undefined)
            query.set("k", String(options.k));
        if (options.contextItem)
            query.set("context_item", options.contextItem);
        if (options.exclude && options.exclude.length > 0)
            query.set("exclude", options.exclude.join(","));
        const response = await this.getJson(`/v1/users/${encodeURIComponent(this.userId)}/recommendations?${query}`, options.signal);
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
    async items(ids, signal) {
        if (ids.length === 0)
            return [];
        const response = await this.getJson(`/v1/items?ids=${ids.map(encodeURIComponent).join(",")}`, signal);
        return response.items;
    }
    /**
     * Suggestions for what the shopper is typing (q may be empty). Debounced: a call made within suggestDebounceMs of
     * the next one never reaches the service. A newer call aborts an older one in flight. A superseded call resolves
     * with null, so a slow answer to an old prefix never replaces the answer to the newest.
     */
    suggest(q, options = {}) {
        const seq = ++this.suggestSeq;
        this.cancelSuggestions(false);
        return new Promise((resolve, reject) => {
            this.suggestSettle = resolve;
            this.suggestTimer = setTimeout(async () => {
                this.suggestTimer = null;
                const abort = new AbortController();
                this.suggestAbort = abort;
                const query = new URLSearchParams({ q });
                if (options.k !== undefined)
                    query.set("k", String(options.k));
                if (options.contextItem)
                    query.set("context_item", options.contextItem);
                try {
                    const response = await this.getJson(`/v1/users/${encodeURIComponent(this.userId)}/suggestions?${query}`, abort.signal);
                    if (seq !== this.suggestSeq) {
                        resolve(null);
                        return;
                    }
                    this.lastSuggestions = response;
                    this.suggestSettle = null;
                    resolve(response);
                }
                catch (error) {
                    if (seq !== this.suggestSeq || abort.signal.aborted) {
                        resolve(null);
                    }
                    else {
                        this.suggestSettle = null;
                        reject(error);
                    }
                }
                finally {
                    if (this.suggestAbort === abort)
                        this.suggestAbort = null;
                }
            }, this.suggestDebounceMs);
        });
    }
    /** Stops a pending suggest() (the box lost focus, the shopper pressed Escape); it resolves with null. */
    cancelSuggestions(supersede = true) {
        if (supersede)
            this.suggestSeq++;
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
    track(type, fields = {}) {
        const event = {
            event_id: newId("e"),
            user_id: this.userId,
            session_id: this.currentSession(true).id,
            type,
        };
        if (fields.itemId !== undefined)
            event.item_id = fields.itemId;
        if (fields.query !== undefined)
            event.query = fields.query;
        let requestId = fields.requestId;
        let position = fields.position;
        if (requestId === undefined && fields.itemId !== undefined && (type === "click" || type === "add_to_cart" || type === "purchase")) {
            const served = this.served.get(fields.itemId);
            if (served) {
                requestId = served.requestId;
                position = position ?? served.position;
            }
        }
        if (requestId !== undefined)
            event.request_id = requestId;
        if (position !== undefined)
            event.position = position;
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
    view(itemId) {
        return this.track("view", { itemId });
    }
    click(itemId, attribution = {}) {
        return this.track("click", { itemId, ...attribution });
    }
    addToCart(itemId) {
        return this.track("add_to_cart", { itemId });
    }
    purchase(itemId) {
        return this.track("purchase", { itemId });
    }
    search(query) {
        return this.track("search", { query });
    }
    /** The shopper picked a suggestion: attributed to the suggestions answer that showed it. */
    suggestionClick(suggestion) {
        const text = typeof suggestion === "string" ? suggestion : suggestion.text;
        const shown = this.lastSuggestions?.suggestions.find((s) => s.text === text);
        return this.track("suggestion_click", {
            query: text,
            requestId: shown ? this.lastSuggestions.request_id : undefined,
            position: shown?.position,
        });
    }
    /**
     * Sends queued events now, batch after batch, until the queue is empty or a delivery fails (it is then retried
     * with backoff). Resolves with the number of events still queued.
     */
    async flush() {
        while (this.queue.length > 0 && this.now() >= this.retryAt) {
            if (!this.sending) {
                this.sending = this.sendBatch().finally(() => {
                    this.sending = null;
                });
            }
            const before = this.failures;
            await this.sending;
            if (this.failures > before)
                break;
        }
        return this.queue.length;
    }
    /**
     * The page is going away: keeps the queue in storage (the next page sends what does not arrive) and sends it with
     * keep-alive requests, which the browser completes after the page has gone.
     */
    flushOnExit() {
        this.persistQueue();
        if (this.queue.length === 0)
            return;
        let batch = [];
        let bytes = 0;
        const sendKeepalive = (events) => {
            this.post(events, true).then((outcome) => this.settle(events, outcome), () => { });
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
        if (batch.length > 0)
            sendKeepalive(batch);
    }
    /** Stops listening for page hide and cancels timers (a single-page app replacing its client). */
    close() {
        this.detach?.();
        this.detach = null;
        if (this.timer !== null)
            clearTimeout(this.timer);
        this.timer = null;
        this.cancelSuggestions();
    }
    schedule(delayMs) {
        const at = Math.max(this.now() + delayMs, this.retryAt);
        if (this.timer !== null) {
            if (this.timerDue <= at)
                return;
            clearTimeout(this.timer);
        }
        this.timerDue = at;
        this.timer = setTimeout(() => {
            this.timer = null;
            void this.flush().then((left) => {
                if (left > 0)
                    this.schedule(this.flushDelayMs);
            });
        }, Math.max(0, at - this.now()));
    }
    async sendBatch() {
        const batch = this.queue.slice(0, this.batchSize);
        let outcome;
        try {
            outcome = await this.post(batch, false);
        }
        catch {
            outcome = { kind: "retry", error: new SessionRecError(0, "Network failure", "The service could not be reached; the events are kept and retried.") };
        }
        this.settle(batch, outcome);
    }
    /** Applies a delivery's outcome to the queue: acknowledged and refused events leave it, the rest are retried. */
    settle(batch, outcome) {
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
    async post(events, keepalive) {
        const response = await this.request("/v1/events", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ events }),
            keepalive,
        });
        if (response.ok) {
            const body = (await response.json());
            return { kind: "done", results: body.results ?? [] };
        }
        const error = await toError(response);
        if (response.status === 429 || response.status === 408 || response.status >= 500 || response.status === 401 || response.status === 403) {
            // 401/403: a key revoked or mistyped; keep the events until it is fixed rather than lose them.
            return { kind: "retry", error, retryAfterMs: retryAfterMs(response.headers.get("retry-after"), this.now()) };
        }
        return { kind: "refused", error };
    }
    async getJson(path, signal) {
        const response = await this.request(path, { method: "GET", signal });
        if (!response.ok)
            throw await toError(response);
        return (await response.json());
    }
    async request(path, init) {
        const timeout = new AbortController();
        const timer = setTimeout(() => timeout.abort(), this.timeoutMs);
        const outer = init.signal;
        const onAbort = () => timeout.abort();
        outer?.addEventListener("abort", onAbort);
        if (outer?.aborted)
            timeout.abort();
        try {
            return await this.fetchImpl(this.endpoint + path, {
                ...init,
                signal: timeout.signal,
                headers: { ...init.headers, authorization: `Bearer ${this.key}` },
            });
        }
        catch (error) {
            if (outer?.aborted)
                throw error;
            // Never pass on the browser's error text: it may quote the request, and the request carries the key.
            throw new SessionRecError(0, timeout.signal.aborted ? "Timeout" : "Network failure", `The service did not answer ${path.split("?")[0]}.`);
        }
        finally {
            clearTimeout(timer);
            outer?.removeEventListener("abort", onAbort);
        }
    }
    remember(itemId, served) {
        this.served.delete(itemId);
        this.served.set(itemId, served);
        if (this.served.size > maxServed) {
            this.served.delete(this.served.keys().next().value);
        }
    }
    currentSession(touch) {
        const now = this.now();
        const known = this.session ?? readJson(this.storage, storageKeys.session);
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
    storedUserId() {
        const stored = safeGet(this.storage, storageKeys.user);
        if (stored)
            return stored;
        const id = newId("u");
        safeSet(this.storage, storageKeys.user, id);
        return id;
    }
    readStoredQueue() {
        const stored = readJson(this.storage, storageKeys.queue);
        return Array.isArray(stored) ? stored.filter((e) => e && typeof e.event_id === "string" && e.user_id === this.userId).slice(-this.maxQueue) : [];
    }
    persistQueue() {
        if (this.queue.length === 0) {
            try {
                this.storage?.removeItem(storageKeys.queue);
            }
            catch {
                // Storage can be unavailable (private mode, quota): the in-memory queue still delivers.
            }
        }
        else {
            writeJson(this.storage, storageKeys.queue, this.queue);
        }
    }
    attachPageHide() {
        if (typeof window === "undefined" || typeof window.addEventListener !== "function")
            return;
        const onHide = () => this.flushOnExit();
        const onVisibility = () => {
            if (document.visibilityState === "hidden")
                this.flushOnExit();
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
async function toError(response) {
    let title = `HTTP ${response.status}`;
    let detail;
    try {
        const problem = (await response.json());
        title = problem.title ?? title;
        detail = problem.detail;
    }
    catch {
        // Not a problem document (a proxy's error page): the status says enough.
    }
    return new SessionRecError(response.status, title, detail);
}
/** Retry-After in seconds or as an HTTP date, in milliseconds from now; undefined when absent or unreadable. */
export function retryAfterMs(header, now) {
    if (!header)
        return undefined;
    const seconds = Number(header);
    if (Number.isFinite(seconds))
        return Math.max(0, seconds * 1000);
    const date = Date.parse(header);
    return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
function newId(prefix) {
    const c = globalThis.crypto;
    if (c && typeof c.randomUUID === "function")
        return `${prefix}-${c.randomUUID()}`;
    const bytes = new Uint8Array(16);
    if (c && typeof c.getRandomValues === "function")
        c.getRandomValues(bytes);
    else
        for (let i = 0; i < bytes.length; i++)
            bytes[i] = Math.floor(Math.random() * 256);
    return `${prefix}-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}
function defaultStorage() {
    try {
        return typeof localStorage === "undefined" ? null : localStorage;
    }
    catch {
        return null; // a sandboxed frame may refuse access
    }
}
function safeGet(storage, key) {
    try {
        return storage?.getItem(key) ?? null;
    }
    catch {
        return null;
    }
}
function safeSet(storage, key, value) {
    try {
        storage?.setItem(key, value);
    }
    catch {
        // Quota or privacy mode: the client works from memory.
    }
}
function readJson(storage, key) {
    const text = safeGet(storage, key);
    if (!text)
        return null;
    try {
        return JSON.parse(text);
    }
    catch {
        return null;
    }
}
function writeJson(storage, key, value) {
    safeSet(storage, key, JSON.stringify(value));
}
