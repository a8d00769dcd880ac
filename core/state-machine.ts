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
