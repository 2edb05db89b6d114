import { VeError } from "../../src/errors.ts";

/** Runs `fn`, which must throw a VeError; returns it for the test's own checks. */
export function thrownVeError(fn: () => unknown): VeError {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  if (thrown === undefined) throw new Error("expected a VeError, but the call succeeded");
  if (!(thrown instanceof VeError)) throw new Error(`expected a VeError, got: ${String(thrown)}`);
  return thrown;
}
