/**
 * Tests a session's state table (core/state-machine.ts) move by move: each scenario brings a
 * session to a state, fires one trigger, and expects the state it names itself, so the table and
 * the scenarios are two accounts of the same machine that must agree.
 */
import { expect, waitUntil } from '@open-wc/testing';
import type { Transitions } from '../../core/state-machine.js';

/** Something with a session whose state changes are told by a `state` event. */
export interface Watched<State> {
  session: { readonly state: State; events: { on(type: 'state', handler: (state: State) => void): void } };
}

/** How one move is shown: the state it leads to, how to reach the state it starts from, and how to fire it. */
export type Scenario<State, H> = [to: State, reach: () => Promise<H>, fire: (h: H) => unknown];

/** Scenarios by the state they start from and the trigger they fire, like the table itself. */
export type Scenarios<State extends string, Trigger extends string, H> = {
  [S in State]: { [T in Trigger]?: Scenario<State, H> };
};

/** A test's way to a state: a new `H` from `make`, after these steps, run in order. */
export const stepsFrom =
  <H>(make: () => Promise<H>) =>
  (...steps: Array<(h: H) => unknown>) =>
  async (): Promise<H> => {
    const h = await make();
    for (const step of steps) await step(h);
    return h;
  };

/** The moves both sessions make on their connection's news: a party ended it, it failed, it dropped (each fired by a step of the test's). */
export function connectionScenarios<H>(
  reach: () => Promise<H>,
  fire: { ended: (h: H) => unknown; failed: (h: H) => unknown; dropped: (h: H) => unknown },
): { ended: Scenario<'ended', H>; failed: Scenario<'error', H>; dropped: Scenario<'reconnecting', H> } {
  return { ended: ['ended', reach, fire.ended], failed: ['error', reach, fire.failed], dropped: ['reconnecting', reach, fire.dropped] };
}

/** The moves of a table or of its scenarios, as `from trigger to`; a move to the same state changes nothing, so is left out. */
function moves(table: Record<string, Record<string, unknown>>, to: (entry: unknown) => unknown): string[] {
  return Object.entries(table)
    .flatMap(([from, triggers]) => Object.entries(triggers).map(([trigger, entry]) => [from, trigger, to(entry)]))
    .filter(([from, , target]) => target !== undefined && target !== from)
    .map((move) => move.join(' '))
    .sort();
}

/** One test that the scenarios show every move of the table and no other, and one test per move. */
export function describeMoves<State extends string, Trigger extends string, H extends Watched<State>>(
  table: Transitions<State, Trigger>,
  scenarios: Scenarios<State, Trigger, H>,
  timeout = 2000,
): void {
  it('has one scenario for every move of its table, to the state the scenario expects', () => {
    const scenarioMoves = moves(scenarios, (entry) => (entry as Scenario<State, H>)[0]);
    expect(scenarioMoves).to.deep.equal(moves(table, (entry) => entry));
  });

  for (const [from, triggers] of Object.entries(scenarios) as Array<[State, Scenarios<State, Trigger, H>[State]]>) {
    for (const [trigger, [to, reach, fire]] of Object.entries(triggers) as Array<[Trigger, Scenario<State, H>]>) {
      if (to === from) continue;
      it(`${from} --${trigger}--> ${to}`, async () => {
        const h = await reach();
        expect(h.session.state).to.equal(from, 'the scenario reaches the state the move starts from');
        const seen: State[] = [];
        h.session.events.on('state', (state) => seen.push(state));
        await fire(h);
        await waitUntil(() => h.session.state === to, `${to}, after ${seen.join(', ') || 'nothing'}`, { timeout });
        expect(seen.at(-1)).to.equal(to, 'a state event says so');
      });
    }
  }
}
