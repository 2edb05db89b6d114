#!/usr/bin/env bun
// The `ve` executable. Everything here is on the path of every command, so it imports only
// what a client needs; the daemon's server code is loaded by the commands that become one.
import root from "./commands/root.ts";
import { runCli } from "./runner.ts";

// An explicit exit skips the runtime's orderly teardown, most of a millisecond a run; output
// is already written (console.log writes synchronously, however large or slow the reader).
process.exit(await runCli(root, process.argv.slice(2)));
