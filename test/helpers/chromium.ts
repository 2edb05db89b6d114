// The real Chromium the browser tests drive (through playwright-core): Debian's `chromium`
// package. @sparticuz/chromium was tried too: it installs from npm in seconds, but its Lambda
// build (unpacked to a fixed /tmp/chromium shared by every test) hung on a plain headless page
// here, while Debian's package ran it at once. When the package is missing, the set-up installs
// it if it can (root, apt-get); otherwise it says what to run.
import { existsSync } from "node:fs";

export const CHROMIUM_PATH = "/usr/bin/chromium";
/** apt-get update and install of chromium took ~60 s on this machine; room for a slow mirror. */
export const CHROMIUM_INSTALL_TIMEOUT_MS = 10 * 60 * 1000;

function run(argv: string[]): void {
  const result = Bun.spawnSync(argv, {
    stdout: "inherit",
    stderr: "inherit",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    timeout: CHROMIUM_INSTALL_TIMEOUT_MS,
  });
  if (result.exitCode !== 0) throw new Error(`\`${argv.join(" ")}\` failed (exit ${result.exitCode})`);
}

/** The path of Debian's chromium, installed first when missing and allowed. */
export function ensureChromium(): string {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  const root = process.getuid?.() === 0;
  const apt = Bun.which("apt-get");
  if (!root || !apt) {
    throw new Error(
      `The browser tests need Debian's chromium at ${CHROMIUM_PATH}; run \`sudo apt-get update && sudo apt-get install -y chromium\` and run the tests again.`,
    );
  }
  console.error(`${CHROMIUM_PATH} is missing: installing Debian's chromium for the browser tests (apt-get)`);
  run([apt, "update", "-q"]);
  run([apt, "install", "-y", "-q", "chromium"]);
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`apt-get installed chromium but ${CHROMIUM_PATH} is still missing`);
  return CHROMIUM_PATH;
}
