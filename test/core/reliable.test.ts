/** The numbered stream on its own: frames lost on the way are sent again, never applied twice. */
import { expect } from '@open-wc/testing';
import { Inbox, Outbox, RETRANSMIT_MS } from '../../core/reliable.js';
import type { PatchContent, SnapshotContent } from '../../core/protocol/frames.js';

const snapshot = { t: 'snapshot', tree: [9, 1, []] } as unknown as SnapshotContent;
const patch = (n: number) => ({ t: 'patch', ops: [[3, n, 'text']] }) as unknown as PatchContent;

/** An outbox whose frames reach an inbox unless `lose` says otherwise; what the inbox applied, by number. */
function link(lose: (s: number) => boolean = () => false) {
  const inbox = new Inbox();
  const applied: number[] = [];
  const received: number[] = [];
  const outbox = new Outbox((text) => {
    const frame = JSON.parse(text) as { t: string; s: number };
    if (lose(frame.s)) return true;
    received.push(frame.s);
    if (inbox.accept(frame).apply) applied.push(frame.s);
    return true;
  });
  outbox.ack(0, 0); // the agent's first acknowledgement: live from here
  return { inbox, outbox, applied, received };
}

describe('Outbox and Inbox', () => {
  it('sends a lost tail again once the acknowledgements stand still, and the inbox applies it once', () => {
    const lost = new Set([3, 4]);
    const { inbox, outbox, applied } = link((s) => lost.delete(s));
    outbox.push(snapshot);
    outbox.push(patch(1));
    outbox.push(patch(2)); // s 3: lost
    outbox.push(patch(3)); // s 4: lost
    expect(applied).to.deep.equal([1, 2]);
    const t0 = performance.now();
    outbox.ack(inbox.last, t0); // the agent's acknowledgement after applying 1..2
    outbox.ack(inbox.last, t0 + 100); // repeated, but the frames are recent: nothing yet
    expect(applied).to.deep.equal([1, 2]);
    outbox.ack(inbox.last, t0 + RETRANSMIT_MS + 1); // repeated, and 3..4 are long unacknowledged
    expect(applied).to.deep.equal([1, 2, 3, 4]);
  });

  it('does not send again while the agent is making progress', () => {
    const { outbox, received } = link();
    outbox.push(snapshot);
    for (let n = 1; n <= 5; n++) outbox.push(patch(n));
    const t0 = performance.now() + RETRANSMIT_MS * 2;
    outbox.ack(2, t0);
    outbox.ack(4, t0 + 10);
    outbox.ack(6, t0 + 20);
    expect(received).to.deep.equal([1, 2, 3, 4, 5, 6]);
  });

  it('skips a duplicate and refuses a patch past a gap', () => {
    const inbox = new Inbox();
    expect(inbox.accept({ t: 'snapshot', s: 5 }).apply).to.equal(true);
    expect(inbox.accept({ t: 'patch', s: 5 })).to.deep.equal({ apply: false, gap: false });
    expect(inbox.accept({ t: 'patch', s: 7 })).to.deep.equal({ apply: false, gap: true });
    expect(inbox.accept({ t: 'patch', s: 6 }).apply).to.equal(true);
  });
});

describe('a new page numbering on from a lagging sequence number', () => {
  it('renumbers after the agent instead of replaying numbers the agent has from the page before', () => {
    const { inbox, outbox, applied } = link();
    outbox.push(snapshot);
    for (let n = 1; n <= 9; n++) outbox.push(patch(n)); // the page before: 1..10 applied
    expect(inbox.last).to.equal(10);

    // The reloaded page resumes on another relay node, whose record says 6 (written in batches).
    const page = new Outbox((text) => {
      const frame = JSON.parse(text) as { t: string; s: number };
      if (inbox.accept(frame).apply) applied.push(frame.s);
      return true;
    });
    page.continueFrom(6);
    page.push(snapshot); // 7: kept until the agent says where it is
    expect(page.ack(inbox.last)).to.equal(false, 'the caller takes a fresh snapshot');
    page.push(snapshot);
    page.push(patch(1));
    expect(applied.slice(-2)).to.deep.equal([11, 12], "the new page's frames follow the agent's");
  });
});
