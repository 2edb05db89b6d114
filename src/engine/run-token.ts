// A run's secret: the agent gets it as VE_RUN_TOKEN, the store keeps only its hash, and every
// call an agent makes about its run (`ve mcp`, `ve agent`) carries it, so an agent can speak
// only for its own run.

/** 32 random bytes, hex. */
export function newRunToken(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16).padStart(2, "0")).join("");
}

export function hashRunToken(token: string): string {
  return new Bun.CryptoHasher("sha256").update(token).digest("hex");
}
