/**
 * A session's life as plain data: for each state, the triggers it takes and the state each leads
 * to. A trigger a state does not list leaves it as it is, so the table is the whole story of where
 * a session can go (customer-states.ts, agent-states.ts).
 */

/** For each state, the triggers it takes and the state each leads to. */
export type Transitions<State extends string, Trigger extends string> = {
  readonly [S in State]: { readonly [T in Trigger]?: State };
};

/** Where `trigger` takes a machine in `state`: the table's answer, or `state` itself when it does not take it. */
export const transition = <State extends string, Trigger extends string>(
  table: Transitions<State, Trigger>,
  state: State,
  trigger: Trigger,
): State => table[state][trigger] ?? state;

/** A session as its table moves it: its state, and the event that tells of each change. */
export interface Machine<State extends string> {
  state: State;
  readonly events: { emit(type: 'state', state: State): void };
}

/** Moves `session` as `table` says for `trigger`; a `state` event tells of a change. */
export function move<State extends string, Trigger extends string>(
  session: Machine<State>,
  table: Transitions<State, Trigger>,
  trigger: Trigger,
): void {
  const state = transition(table, session.state, trigger);
  if (state === session.state) return;
  session.state = state;
  session.events.emit('state', state);
}
