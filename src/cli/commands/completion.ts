import { defineCommand } from "citty";
import { SHELLS, type Shell, completionScript } from "../completion.ts";
import type { Command } from "../command-defs.ts";
import { print } from "../output.ts";

/** `ve completion SHELL`: the script for every command under `root`. */
export const completionCommand = (root: Command) =>
  defineCommand({
    meta: { name: "completion", description: "Print a shell completion script: bash, zsh or fish" },
    args: {
      shell: {
        type: "positional",
        required: true,
        valueHint: "shell",
        description: "bash (source <(ve completion bash)), zsh (source <(ve completion zsh)) or fish (ve completion fish | source)",
      },
    },
    async run({ args }) {
      const shell = String(args.shell).toLowerCase();
      if (!(SHELLS as readonly string[]).includes(shell)) {
        const { usageError } = await import("../args.ts");
        throw usageError(`SHELL must be one of ${SHELLS.join(", ")}, not '${args.shell}'`);
      }
      print(await completionScript(shell as Shell, root));
    },
  });
