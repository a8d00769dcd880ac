/**
 * A WebSocket that reconnects: exponential backoff with full jitter, so a relay restart
 * is not met by every browser at the same instant.
 */
import mitt, { type Emitter } from 'mitt';
import { CloseCode } from './protocol/index.js';

export type TransportEvents = {
  /** Connected (again); the session layer re-authenticates here. */
  open: void;
  /** One text frame as received. */
  message: string;
  /** Closed; `retrying` says whether a reconnect is scheduled. */
  close: { code: number; reason: string; retrying: boolean };
};

/** The subprotocol every client offers; the relay answers with it. */
export const SUBPROTOCOL = 'cobrowse.v1';

/** Browsers cannot set headers on a WebSocket, so an agent's token rides in a second subprotocol. */
export const bearerProtocol = (token: string): string => `cobrowse.bearer.${token}`;

export interface TransportOptions {
  /** WebSocket subprotocols to offer, or a function asked at every (re)connection; `[SUBPROTOCOL]` by default. */
  protocols?: string[] | (() => string[]);
  /** First retry delay in ms (500); doubles each attempt up to `maxDelayMs`. */
  minDelayMs?: number;
  /** Longest retry delay in ms (15000). */
  maxDelayMs?: number;
  /** @deprecated Use `minDelayMs` (the same value); removed in 0.2. */
  minDelay?: number;
  /** @deprecated Use `maxDelayMs` (the same value); removed in 0.2. */
  maxDelay?: number;
}

/** Close codes after which reconnecting cannot help. */
const FINAL = new Set<number>([
  CloseCode.Ended,
  CloseCode.UnsupportedData,
  CloseCode.PolicyViolation,
  CloseCode.TooBig,
  CloseCode.UnsupportedVersion,
  CloseCode.SessionNotFound,
  CloseCode.SessionTaken,
  CloseCode.Unauthorized,
  CloseCode.RateLimited,
]);

/** What a session needs of its connection; Transport is the WebSocket one (a test or a story may bring another). */
export interface Connection {
  readonly events: Emitter<TransportEvents>;
  readonly connected: boolean;
  connect(): void;
  send(frame: object): boolean;
  sendText(text: string): boolean;
  close(code?: number): void;
}

/** Makes a session's connection to `url`, offering the subprotocols `protocols()` returns at each (re)connection. */
export type ConnectionFactory = (url: string, protocols: () => string[]) => Connection;

export const webSocketConnection: ConnectionFactory = (url, protocols) => new Transport(url, { protocols });

export class Transport implements Connection {
  readonly events: Emitter<TransportEvents> = mitt<TransportEvents>();
  #socket: WebSocket | null = null;
  #attempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #closedByUs = false;
  #minDelay: number;
  #maxDelay: number;
  #protocols: string[] | (() => string[]);

  constructor(
    readonly url: string,
    options: TransportOptions = {},
  ) {
    this.#minDelay = options.minDelayMs ?? options.minDelay ?? 500;
    this.#maxDelay = options.maxDelayMs ?? options.maxDelay ?? 15_000;
    this.#protocols = options.protocols ?? [SUBPROTOCOL];
    const protocol = new URL(url, globalThis.location?.href).protocol;
    if (protocol !== 'ws:' && protocol !== 'wss:') throw new TypeError(`Relay URL must be ws: or wss:, got "${url}"`);
  }

  /** True while the socket is open. */
  get connected(): boolean {
    return this.#socket?.readyState === WebSocket.OPEN;
  }

  connect(): void {
    this.#closedByUs = false;
    clearTimeout(this.#retryTimer);
    // Asked each time: an agent's token may have been renewed since the last connection.
    const socket = new WebSocket(this.url, typeof this.#protocols === 'function' ? this.#protocols() : this.#protocols);
    this.#socket = socket;
    socket.onopen = () => {
      this.#attempt = 0;
      this.events.emit('open');
    };
    socket.onmessage = (event) => {
      if (typeof event.data === 'string') this.events.emit('message', event.data);
    };
    socket.onclose = (event) => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      const retrying = !this.#closedByUs && !FINAL.has(event.code);
      if (retrying) this.#scheduleRetry();
      this.events.emit('close', { code: event.code, reason: event.reason, retrying });
    };
  }

  /** Sends a frame if connected; returns whether it was handed to the socket. */
  send(frame: object): boolean {
    return this.sendText(JSON.stringify(frame));
  }

  /** Sends a frame already serialized; returns whether it was handed to the socket. */
  sendText(text: string): boolean {
    if (this.#socket?.readyState !== WebSocket.OPEN) return false;
    this.#socket.send(text);
    return true;
  }

  /** Closes for good: no reconnect. */
  close(code = 1000): void {
    this.#closedByUs = true;
    clearTimeout(this.#retryTimer);
    this.#socket?.close(code);
  }

  #scheduleRetry(): void {
    const ceiling = Math.min(this.#maxDelay, this.#minDelay * 2 ** this.#attempt++);
    this.#retryTimer = setTimeout(() => this.connect(), Math.random() * ceiling);
  }
}
