export function until<T>(
  check: () => T | Promise<T>,
  what?: string | (() => string | Promise<string>),
  options?: { ms?: number; every?: number },
): Promise<NonNullable<Awaited<T>>>;
export function sleep(ms: number): Promise<void>;
