/**
 * Exactly-once delivery of the mirror's stream (snapshots and patches) across dropped
 * connections, page loads and agents coming and going.
 *
 * The customer numbers each content frame and keeps it until the agent acknowledges it
 * (Outbox). After a reconnect on either side the agent says what it applied last, and the
 * customer replays what follows — or, when it no longer holds all of that, takes a fresh
 * snapshot. The agent applies each number once and in order (Inbox); a snapshot may jump
 * ahead, because it replaces everything before it. DOM-free, so the relay's tests drive it too.
 */
import { CHUNK_CHARS, type ChunkFrame, type PatchContent, type SnapshotContent } from './protocol/frames.js';

/** What the customer keeps for replay, at most (UTF-16 units of JSON): past it, a resume takes a fresh snapshot. */
const OUTBOX_CHARS = 8 * 1024 * 1024;
/**
 * A frame unacknowledged this long, while the agent's acknowledgements stand still, was lost on the
 * way (between relays, say): it is sent again. The agent acknowledges at least every 2 s.
 */
export const RETRANSMIT_MS = 1_500;

type Content = SnapshotContent | PatchContent;

export class Outbox {
  /** The last number given out. */
  seq = 0;
  /** Live: frames go out as they are made. False from a (re)connect until the agent says where it is. */
  synced = false;
  /** Unacknowledged frames since the latest snapshot, as sent, and when (performance.now()). */
  #frames: Array<{ s: number; text: string; sentAt: number }> = [];
  /** The agent's previous acknowledgement (-1: none since the last (re)connect). */
  #lastAck = -1;
  /** Whether this page has sent any numbered frame: until it has, the agent cannot hold one of its numbers. */
  #sentAny = false;
  #chars = 0;
  /** Number of the latest snapshot's first frame, while `frames` can still rebuild the page from it. */
  #snapshotSeq = 0;

  /** Hands a text to the socket and says whether it could. */
  readonly #send: (text: string) => boolean;
  readonly #capChars: number;

  /** `send` hands a text to the socket and says whether it could. */
  constructor(send: (text: string) => boolean, capChars = OUTBOX_CHARS) {
    this.#send = send;
    this.#capChars = capChars;
  }

  /** Numbers a content frame (cut into chunks when big), keeps it for replay, and sends it when live. */
  push(frame: Content): void {
    const json = JSON.stringify(frame);
    if (frame.t === 'snapshot') {
      this.forget();
      this.#snapshotSeq = this.seq + 1;
    }
    for (const text of this.#number(json, frame.t)) {
      const s = this.seq;
      if (this.#snapshotSeq) {
        this.#frames.push({ s, text, sentAt: performance.now() });
        this.#chars += text.length;
        if (this.#chars > this.#capChars) this.forget(); // too much to replay: a resume will resnapshot
      }
      if (this.synced) this.#sendOne(text);
    }
  }

  /** After a (re)connect: hold new frames until the agent says what it has. */
  unsync(): void {
    this.synced = false;
    this.#lastAck = -1;
  }

  /** The relay's highest number for this session: a fresh page numbers on from there. */
  continueFrom(seq: number): void {
    this.seq = Math.max(this.seq, seq);
  }

  /** Drops everything kept (sharing stopped, or the agent is gone for good). */
  forget(): void {
    this.#frames.length = 0;
    this.#chars = 0;
    this.#snapshotSeq = 0;
  }

  /**
   * The agent has applied everything up to `s`. While synced this only frees what it has; after a
   * reconnect it also replays what the agent is missing and goes live. Returns false when the agent
   * cannot be caught up from what is kept: the caller sends a fresh snapshot (live already).
   * While synced, an acknowledgement that repeats the previous one, with frames long unacknowledged,
   * means those were lost on the way: they go again (the agent skips any it has).
   */
  ack(s: number, now = performance.now()): boolean {
    if (!this.synced && !this.#sentAny && this.#snapshotSeq && s >= this.#snapshotSeq) {
      // A new page numbered on from a sequence number that lagged behind the agent (it came from
      // another relay node): the agent has these numbers from the page before. Number on from the agent's.
      this.forget();
      this.seq = Math.max(this.seq, s);
      this.synced = true;
      this.#lastAck = s;
      return false;
    }
    let done = 0;
    while (done < this.#frames.length && this.#frames[done].s <= s) this.#chars -= this.#frames[done++].text.length;
    if (done) this.#frames.splice(0, done);
    const stalled = s === this.#lastAck;
    this.#lastAck = s;
    if (this.synced) {
      if (stalled && this.#frames.length && now - this.#frames[0].sentAt >= RETRANSMIT_MS) this.#resend(now);
      return true;
    }
    this.synced = true;
    if (s > this.seq) this.seq = s; // a page that never saw the numbers the agent has
    // Replayable when what is kept starts with our snapshot, or continues exactly where the agent is on it.
    const first = this.#frames[0]?.s ?? this.seq + 1;
    const replay = this.#snapshotSeq > 0 && (first === this.#snapshotSeq || (s >= this.#snapshotSeq && first === s + 1));
    if (!replay) return false;
    this.#resend(now);
    return true;
  }

  #resend(now: number): void {
    for (const frame of this.#frames) {
      if (!this.#sendOne(frame.text)) break;
      frame.sentAt = now;
    }
  }

  #sendOne(text: string): boolean {
    if (this.#send(text)) return (this.#sentAny = true);
    this.synced = false;
    return false;
  }

  /** The frame's text with its number, or its chunks with theirs. */
  #number(json: string, type: Content['t']): string[] {
    // The number goes last, so a frame still starts with its type ({"t":"patch",…) for anyone reading the wire.
    if (json.length <= CHUNK_CHARS) return [`${json.slice(0, -1)},"s":${++this.seq}}`];
    const n = Math.ceil(json.length / CHUNK_CHARS);
    const texts = [];
    for (let i = 0; i < n; i++) {
      const chunk: ChunkFrame = { t: 'chunk', s: ++this.seq, of: type, i, n, d: json.slice(i * CHUNK_CHARS, (i + 1) * CHUNK_CHARS) };
      texts.push(JSON.stringify(chunk));
    }
    return texts;
  }
}

/** What the agent does with a numbered frame. */
export type Verdict =
  /** Apply it: `text` is the whole frame's JSON when the last chunk completed one. */
  | { apply: true; text?: string }
  /** Already applied (a replay overlapping what arrived), or a chunk kept for later: skip. */
  | { apply: false; gap: false }
  /** Something before it is missing: skip it and ask for a snapshot. */
  | { apply: false; gap: true };

const SKIP: Verdict = { apply: false, gap: false };
const GAP: Verdict = { apply: false, gap: true };
const APPLY: Verdict = { apply: true };

export class Inbox {
  /** The number of the last frame applied (or chunk taken); 0 before the first snapshot. */
  last = 0;
  #parts: string[] = [];

  /** Decides on a numbered frame; a snapshot (or its first chunk) may jump ahead, anything else must follow `last`. */
  accept(frame: { t: string; s: number; of?: string; i?: number; n?: number; d?: string }): Verdict {
    if (frame.s <= this.last) return SKIP;
    const opens = frame.t === 'snapshot' || (frame.t === 'chunk' && frame.of === 'snapshot' && frame.i === 0);
    // A gap leaves everything as it was: the frames it misses may still come (a replay), in order.
    if (opens) this.#parts = [];
    else if (frame.s !== this.last + 1) return GAP;
    if (frame.t !== 'chunk') {
      this.#parts = [];
      this.last = frame.s;
      return APPLY;
    }
    if (frame.i !== this.#parts.length) return GAP; // not the piece that follows: only a snapshot can help
    this.#parts.push(frame.d!);
    this.last = frame.s;
    if (frame.i! < frame.n! - 1) return SKIP;
    const text = this.#parts.join('');
    this.#parts = [];
    return { apply: true, text };
  }

  /** Starts over (a new agent console has nothing). */
  reset(): void {
    this.last = 0;
    this.#parts = [];
  }
}
