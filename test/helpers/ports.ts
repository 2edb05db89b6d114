// A TCP port for a test that must name one before anything listens on it (`ve orch start --tcp
// --port N`, a port nobody listens on). It is free when chosen and below the kernel's ephemeral
// range: a port-0 listener or an outgoing connection of another process (other suites run on
// the same machine) is never handed it between this check and the test's own use, as a port
// freed from a port-0 listener can be.
import { readFileSync } from "node:fs";

/** The first port the kernel hands out by itself (Linux: ip_local_port_range; else IANA's 49152). */
function ephemeralStart(): number {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 2048) return low;
  } catch {}
  return 49152;
}

export function unusedPort(): number {
  const top = ephemeralStart() - 1;
  const bottom = Math.max(1024, top - 10_000);
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = bottom + Math.floor(Math.random() * (top - bottom));
    try {
      Bun.serve({ hostname: "127.0.0.1", port, fetch: () => new Response("") }).stop(true);
      return port;
    } catch {
      // Someone listens there: another one.
    }
  }
  throw new Error(`no free TCP port between ${bottom} and ${top}`);
}
