/**
 * A hand-driven Connection for the session unit tests: the test plays the relay. It opens, drops
 * and closes when told, says what the session sent, and hands the session the frames the test writes.
 */
import mitt, { type Emitter } from 'mitt';
import type { Connection, ConnectionFactory, TransportEvents } from '../../core/transport.js';

export class FakeConnection implements Connection {
  readonly events: Emitter<TransportEvents> = mitt<TransportEvents>();
  /** Every frame the session sent while open, parsed. */
  readonly sent: Array<Record<string, unknown>> = [];
  connected = false;
  /** How many times the session asked to connect. */
  connects = 0;
  closed = false;

  constructor(
    readonly url: string,
    readonly protocols: () => string[],
  ) {}

  connect(): void {
    this.connects++;
  }

  send(frame: object): boolean {
    return this.sendText(JSON.stringify(frame));
  }

  sendText(text: string): boolean {
    if (!this.connected) return false;
    this.sent.push(JSON.parse(text) as Record<string, unknown>);
    return true;
  }

  close(): void {
    this.closed = true;
    this.connected = false;
  }

  /** The socket opens: the session says hello. */
  open(): void {
    this.connected = true;
    this.events.emit('open');
  }

  /** The relay sends this frame. */
  receive(frame: object): void {
    this.events.emit('message', JSON.stringify(frame));
  }

  /** The socket closes; `retrying` as Transport says it (true: a reconnect is scheduled). */
  drop({ retrying = true, reason = '', code = 1006 } = {}): void {
    this.connected = false;
    this.events.emit('close', { code, reason, retrying });
  }

  /** The frames of this type the session sent. */
  frames(type: string): Array<Record<string, unknown>> {
    return this.sent.filter((frame) => frame.t === type);
  }

  /** The last frame the session sent. */
  get last(): Record<string, unknown> | undefined {
    return this.sent.at(-1);
  }
}

/** A ConnectionFactory that makes FakeConnections and keeps them, newest last. */
export function fakeRelay(): { connection: ConnectionFactory; made: FakeConnection[]; readonly current: FakeConnection } {
  const made: FakeConnection[] = [];
  return {
    connection: (url, protocols) => {
      const fake = new FakeConnection(url, protocols);
      made.push(fake);
      return fake;
    },
    made,
    get current() {
      const fake = made.at(-1);
      if (!fake) throw new Error('The session made no connection');
      return fake;
    },
  };
}
