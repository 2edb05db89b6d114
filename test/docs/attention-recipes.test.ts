// The on_attention recipes of docs/attention.md, run as written (with the notifier programs
// replaced by recorders on PATH and the webhook URL by a local server), so a quoting mistake
// in the documentation fails here rather than on a user's desktop.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { useTempDirs } from "../helpers/temp.ts";

const DOC = readFileSync(resolve(import.meta.dir, "../../docs/attention.md"), "utf8");
const tempDir = useTempDirs("ve-recipes");
const hasJq = Bun.which("jq") !== null;
const hasCurl = Bun.which("curl") !== null;
if (!hasJq || !hasCurl) console.log(`some recipe tests skipped: ${!hasJq ? "jq" : "curl"} is not installed`);

const RECORD = {
  chunk: "cache",
  phase: "IMPLEMENT",
  project: "/home/me/app",
  kind: "question",
  reason: "the agent asked a question",
  question: "Which database, \"sqlite\" or 'postgres'?",
  options: ["sqlite", "postgres"],
  since: "2026-12-02T01:20:00.000Z",
  run_id: "20261202-012000-a1b2c3",
};

/** The shell block after `<!-- recipe: NAME -->`. */
function recipe(name: string): string {
  const match = new RegExp(`<!-- recipe: ${name} -->\\n\`\`\`sh\\n([\\s\\S]*?)\`\`\``).exec(DOC);
  if (!match) throw new Error(`docs/attention.md has no recipe '${name}'`);
  return match[1] as string;
}

/** The command of a `ve orch config on_attention '...'` line, as the shell would pass it. */
function configured(block: string): string {
  const match = /^ve orch config on_attention '(.*)'$/m.exec(block);
  if (!match) throw new Error(`not an on_attention setting: ${block}`);
  return match[1] as string;
}

/** Runs a hook command the way the daemon does: /bin/sh -c, the record on stdin, its variables. */
async function runHook(command: string, path: string): Promise<{ code: number; stderr: string }> {
  const child = Bun.spawn(["/bin/sh", "-c", command], {
    env: { PATH: path, VE_CHUNK: RECORD.chunk, VE_PHASE: RECORD.phase, VE_ATTENTION_KIND: RECORD.kind, VE_PROJECT_DIR: RECORD.project },
    stdin: new Blob([`${JSON.stringify(RECORD)}\n`]),
    stdout: "ignore",
    stderr: "pipe",
  });
  const [stderr, code] = await Promise.all([new Response(child.stderr).text(), child.exited]);
  return { code, stderr };
}

/** A program named `name` on a PATH of its own that writes its arguments, one per line. */
function recorder(name: string): { path: string; args: () => string[] } {
  const dir = tempDir();
  const out = join(dir, "args");
  writeFileSync(join(dir, name), `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done > '${out}'\n`);
  chmodSync(join(dir, name), 0o755);
  return { path: `${dir}:${process.env.PATH ?? "/usr/bin:/bin"}`, args: () => readFileSync(out, "utf8").trimEnd().split("\n") };
}

const received: unknown[] = [];
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(request) {
    received.push({ type: request.headers.get("content-type"), body: JSON.parse(await request.text()) });
    return new Response("ok");
  },
});
afterAll(() => server.stop(true));
const local = `http://127.0.0.1:${server.port}/hook`;

describe("docs/attention.md recipes", () => {
  (hasJq ? test : test.skip)("notify-send gets the unit, the kind and the question", async () => {
    const notify = recorder("notify-send");
    const result = await runHook(configured(recipe("notify-send")), notify.path);
    expect(result).toEqual({ code: 0, stderr: "" });
    expect(notify.args()).toEqual(["--app-name=ve", "ve: cache needs you (question)", RECORD.question]);
  });

  test("osascript gets a notification script naming the unit", async () => {
    const osascript = recorder("osascript");
    const result = await runHook(configured(recipe("osascript")), osascript.path);
    expect(result).toEqual({ code: 0, stderr: "" });
    expect(osascript.args()).toEqual(["-e", 'display notification "question" with title "ve: cache needs you"']);
  });

  (hasJq && hasCurl ? test : test.skip)("the webhook script posts a chat message with the question and its options", async () => {
    received.length = 0;
    const script = join(tempDir(), "ve-webhook");
    writeFileSync(script, recipe("webhook").replace(/"https:\/\/hooks\.slack\.com[^"]*"/, `"${local}"`));
    chmodSync(script, 0o755);
    const result = await runHook(script, process.env.PATH ?? "/usr/bin:/bin");
    expect(result).toEqual({ code: 0, stderr: "" });
    expect(received).toEqual([
      { type: "application/json", body: { text: `ve: cache (IMPLEMENT) needs you: ${RECORD.question}\n  1. sqlite\n  2. postgres` } },
    ]);
  });

  (hasCurl ? test : test.skip)("the raw webhook posts the record as it is", async () => {
    received.length = 0;
    const result = await runHook(configured(recipe("webhook-raw")).replace("https://example.com/ve-hook", local), process.env.PATH ?? "/usr/bin:/bin");
    expect(result).toEqual({ code: 0, stderr: "" });
    expect(received).toEqual([{ type: "application/json", body: RECORD }]);
  });
});
