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
    entities: {
        id: string;
        name: string;
    }[];
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
export declare class SessionRecError extends Error {
    readonly status: number;
    readonly title: string;
    readonly detail?: string;
    readonly eventIds: string[];
    constructor(status: number, title: string, detail?: string, eventIds?: string[]);
}
export declare class SessionRecClient {
    readonly userId: string;
    private readonly endpoint;
    private readonly key;
    private readonly storage;
    private readonly fetchImpl;
    private readonly batchSize;
    private readonly flushDelayMs;
    private readonly maxQueue;
    private readonly suggestDebounceMs;
    private readonly sessionTimeoutMs;
    private readonly retryBaseMs;
    private readonly retryMaxMs;
    private readonly timeoutMs;
    private readonly onError;
    private readonly onTrack;
    private readonly now;
    private queue;
    private readonly served;
    private sending;
    private timer;
    private timerDue;
    private failures;
    private retryAt;
    private session;
    private suggestSeq;
    private suggestTimer;
    private suggestAbort;
    private suggestSettle;
    private lastSuggestions;
    private detach;
    constructor(options: ClientOptions);
    /** The id of the shopper's current session, kept in storage; a new one after sessionTimeoutMs without events. */
    get sessionId(): string;
    /** Events tracked and not yet acknowledged by the service. */
    get pending(): number;
    /**
     * Recommendations for the shopper's live session; contextItem is the item on screen ("people also viewed").
     * With details, each recommended item carries its catalogue entry (one more request for the whole list).
     */
    recommend(options?: {
        k?: number;
        contextItem?: string;
        exclude?: string[];
        details?: boolean;
        signal?: AbortSignal;
    }): Promise<Recommendations>;
    /** Catalogue items by id (up to 100), in the order asked; ids not in the catalogue are left out. */
    items(ids: string[], signal?: AbortSignal): Promise<Item[]>;
    /**
     * Suggestions for what the shopper is typing (q may be empty). Debounced: a call made within suggestDebounceMs of
     * the next one never reaches the service. A newer call aborts an older one in flight. A superseded call resolves
     * with null, so a slow answer to an old prefix never replaces the answer to the newest.
     */
    suggest(q: string, options?: {
        k?: number;
        contextItem?: string;
    }): Promise<Suggestions | null>;
    /** Stops a pending suggest() (the box lost focus, the shopper pressed Escape); it resolves with null. */
    cancelSuggestions(supersede?: boolean): void;
    /**
     * Queues an event; returns its id. Clicks, add-to-carts and purchases of an item the service served (in
     * recommend()) carry that list's request_id and position unless given.
     */
    track(type: EventType, fields?: {
        itemId?: string;
        query?: string;
        requestId?: string;
        position?: number;
    }): string;
    view(itemId: string): string;
    click(itemId: string, attribution?: {
        requestId?: string;
        position?: number;
    }): string;
    addToCart(itemId: string): string;
    purchase(itemId: string): string;
    search(query: string): string;
    /** The shopper picked a suggestion: attributed to the suggestions answer that showed it. */
    suggestionClick(suggestion: Suggestion | string): string;
    /**
     * Sends queued events now, batch after batch, until the queue is empty or a delivery fails (it is then retried
     * with backoff). Resolves with the number of events still queued.
     */
    flush(): Promise<number>;
    /**
     * The page is going away: keeps the queue in storage (the next page sends what does not arrive) and sends it with
     * keep-alive requests, which the browser completes after the page has gone.
     */
    flushOnExit(): void;
    /** Stops listening for page hide and cancels timers (a single-page app replacing its client). */
    close(): void;
    private schedule;
    private sendBatch;
    /** Applies a delivery's outcome to the queue: acknowledged and refused events leave it, the rest are retried. */
    private settle;
    private post;
    private getJson;
    private request;
    private remember;
    private currentSession;
    private storedUserId;
    private readStoredQueue;
    private persistQueue;
    private attachPageHide;
}
/** Retry-After in seconds or as an HTTP date, in milliseconds from now; undefined when absent or unreadable. */
export declare function retryAfterMs(header: string | null, now: number): number | undefined;
