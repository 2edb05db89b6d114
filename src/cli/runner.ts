// Runs citty command definitions with a strict parser. citty's own runCommand parses with
// node:util (1.5 ms of start-up, a third of `ve orch ps`), accepts unknown flags silently and
// keeps only the last of repeated flags; here an unknown or repeated flag is a usage error,
// `repeatable` flags collect every value, and help goes through citty's renderUsage.
import { VeError } from "../errors.ts";
import { type Command, type ParsedArgs, type VeArgDef, resolveValue, visibleSubCommands } from "./command-defs.ts";
import { VERSION, buildInfo } from "../version.ts";
import { EXIT_OK, exitCodeOf } from "./exit.ts";
import { type Stream, print, printErr, printError } from "./output.ts";

export {
  type Command,
  type ParsedArgs,
  type SubCommandInfo,
  type VeArgDef,
  resolveValue,
  visibleSubCommands,
} from "./command-defs.ts";
const resolve = resolveValue;

/** Edit distance (insertions, deletions, substitutions, swaps of neighbours) of two short words. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) d.push([i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const up = d[i - 1] as number[];
      row[j] = Math.min((up[j] as number) + 1, (row[j - 1] as number) + 1, (up[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1);
      }
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/** The candidate `word` was most likely meant as: close in spelling, or a prefix of one only. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const allowed = Math.max(1, Math.min(2, Math.floor(lower.length / 3)));
  if (best !== undefined && bestDistance <= allowed) return best;
  const prefixed = candidates.filter((c) => lower.length >= 2 && c.startsWith(lower));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/**
 * A token that starts with '-' but is a value: a lone '-' (stdin) or a negative number
 * (`--priority -5`, an answer `-1`). No option of ve is spelt with a digit, so nothing is lost.
 */
function isValueToken(token: string): boolean {
  if (token === "-") return true;
  const second = token.charCodeAt(1);
  return second >= 48 && second <= 57;
}

function usage(message: string, commandName: string): VeError {
  return new VeError("usage", `${message}; see \`${commandName} --help\`.`);
}

/** `projectDir` -> `project-dir`. A loop, not a regular expression: compiling one costs at start-up. */
function kebab(name: string): string {
  let out = "";
  for (const c of name) out += c >= "A" && c <= "Z" ? `-${c.toLowerCase()}` : c;
  return out;
}

/** Parses `tokens` against `defs`; every problem is a `usage` VeError naming the argument. */
export function parseArgv(tokens: readonly string[], defs: Record<string, VeArgDef>, commandName: string): ParsedArgs {
  const byFlag = new Map<string, string>();
  for (const [name, def] of Object.entries(defs)) {
    if (def.type === "positional") continue;
    byFlag.set(`--${kebab(name)}`, name);
    byFlag.set(`--${name}`, name);
    const aliases = "alias" in def && def.alias ? (Array.isArray(def.alias) ? def.alias : [def.alias]) : [];
    for (const alias of aliases) byFlag.set(alias.length === 1 ? `-${alias}` : `--${alias}`, name);
  }

  const values: ParsedArgs = {};
  const positionals: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string;
    if (token === "--") {
      positionals.push(...tokens.slice(i + 1));
      break;
    }
    if (!token.startsWith("-") || isValueToken(token)) {
      positionals.push(token);
      continue;
    }
    const eq = token.indexOf("=");
    let flag = eq === -1 ? token : token.slice(0, eq);
    let inline = eq === -1 ? undefined : token.slice(eq + 1);
    let name = byFlag.get(flag);
    if (name === undefined && flag.startsWith("--no-") && inline === undefined) {
      const negated = byFlag.get(`--${flag.slice(5)}`);
      if (negated !== undefined && defs[negated]?.type === "boolean") {
        name = negated;
        flag = `--${flag.slice(5)}`;
        inline = "false";
      }
    }
    if (name === undefined) {
      const guess = closest(flag, [...byFlag.keys()].filter((f) => f.startsWith("--")));
      throw usage(`Unknown option ${flag}${guess ? ` (did you mean ${guess}?)` : ""}`, commandName);
    }
    const def = defs[name] as VeArgDef;
    if (def.type === "boolean") {
      if (inline !== undefined && inline !== "true" && inline !== "false") {
        throw usage(`${flag} takes no value (or =true / =false), not '${inline}'`, commandName);
      }
      if (values[name] !== undefined) throw usage(`${flag} is given more than once`, commandName);
      values[name] = inline !== "false";
      continue;
    }
    let value: string;
    if (inline !== undefined) value = inline;
    else {
      const next = tokens[i + 1];
      if (next === undefined || (next.startsWith("-") && !isValueToken(next))) throw usage(`${flag} needs a value`, commandName);
      value = next;
      i++;
    }
    if (def.type === "enum") {
      const options = def.options ?? [];
      const match = options.find((o) => o.toLowerCase() === value.toLowerCase());
      if (match === undefined) throw usage(`${flag} must be one of ${options.join(", ")}, not '${value}'`, commandName);
      value = match;
    }
    if (def.repeatable) {
      const list = (values[name] as string[] | undefined) ?? [];
      if (def.wholeValues) list.push(value);
      else list.push(...value.split(",").filter((v) => v !== ""));
      values[name] = list;
    } else {
      if (values[name] !== undefined) throw usage(`${flag} is given more than once`, commandName);
      values[name] = value;
    }
  }

  for (const [name, def] of Object.entries(defs)) {
    if (def.type === "positional" && def.repeatable) {
      // A repeatable positional takes every remaining argument (`inject a b c`).
      if (positionals.length > 0) values[name] = positionals.splice(0);
      else if (def.required !== false) throw usage(`Missing ${name.toUpperCase()}`, commandName);
    } else if (def.type === "positional") {
      const value = positionals.shift();
      if (value !== undefined) values[name] = value;
      else if (def.default !== undefined) values[name] = def.default;
      else if (def.required !== false) throw usage(`Missing ${name.toUpperCase()}`, commandName);
    } else if (values[name] === undefined && def.default !== undefined) {
      values[name] = def.default;
    } else if (values[name] === undefined && def.required) {
      throw usage(`Missing --${kebab(name)}`, commandName);
    }
  }
  if (positionals.length > 0) throw usage(`Unexpected argument '${positionals[0]}'`, commandName);
  return values;
}

async function printUsage(command: Command, name: string, stream: Stream): Promise<void> {
  // Loaded only for help: the commands themselves need none of it to run.
  const { renderHelp } = await import("./help.ts");
  const text = await renderHelp(command, name, stream, command === rootCommand ? VERSION : undefined);
  if (stream === "stdout") print(text);
  else printErr(text);
}

let rootCommand: Command | undefined;

/** What `--version` prints: the version alone, or with --json what src/version.ts knows of this build. */
function printVersion(rest: readonly string[], name: string): void {
  const extra = rest.slice(1);
  const json = extra.length === 1 && (extra[0] === "--json" || extra[0] === "--json=true");
  if (extra.length > 0 && !json) throw usage(`--version takes no arguments but --json, not '${extra[0]}'`, name);
  if (!json) {
    print(VERSION);
    return;
  }
  print(JSON.stringify(buildInfo()));
}

/** The command at `path` under `group` (for `help <path>`), or a usage error naming the first unknown word. */
async function findCommand(group: Command, groupName: string, path: readonly string[]): Promise<[Command, string]> {
  let command = group;
  let name = groupName;
  for (const word of path) {
    const subCommands = await resolve(command.subCommands);
    if (!subCommands) throw usage(`\`${name}\` has no command '${word}'`, name);
    const next = Object.hasOwn(subCommands, word) ? subCommands[word] : undefined;
    if (!next) throw await unknownCommand(command, name, word);
    command = await resolve(next);
    name = `${name} ${word}`;
  }
  return [command, name];
}

async function unknownCommand(command: Command, name: string, word: string): Promise<VeError> {
  const visible = (await visibleSubCommands(command)).map(([key]) => key);
  const guess = closest(word, [...visible, "help"]);
  const hint = guess ? `did you mean '${guess}'? ` : "";
  return usage(`Unknown command '${word}' for \`${name}\` (${hint}commands: ${[...visible, "help"].join(", ")})`, name);
}

function wantsJson(tokens: readonly string[]): boolean {
  const end = tokens.indexOf("--");
  return (end === -1 ? tokens : tokens.slice(0, end)).some((t) => t === "--json" || t === "--json=true");
}

/** Runs the command that `argv` names under `root`; returns the process exit code. */
export async function runCli(root: Command, argv: readonly string[]): Promise<number> {
  rootCommand = root;
  let command = root;
  let name = (await resolve(root.meta))?.name ?? "ve";
  let rest = argv;
  let defs: Record<string, VeArgDef> | undefined;
  let parsed: ParsedArgs = {};
  try {
    for (;;) {
      const subCommands = await resolve(command.subCommands);
      if (!subCommands) break;
      const first = rest[0];
      if (first === "--help" || first === "-h") {
        await printUsage(command, name, "stdout");
        return EXIT_OK;
      }
      if (command === root && (first === "--version" || first === "-v")) {
        printVersion(rest, name);
        return EXIT_OK;
      }
      if (first === undefined) {
        await printUsage(command, name, "stderr");
        throw new VeError("usage", `Missing command; see \`${name} --help\`.`);
      }
      if (first === "help") {
        const path = rest.slice(1).filter((word) => !word.startsWith("-"));
        const [target, targetName] = await findCommand(command, name, path);
        await printUsage(target, targetName, "stdout");
        return EXIT_OK;
      }
      if (first.startsWith("-")) throw usage(`Unknown option ${first} for \`${name}\` (options go after the command)`, name);
      // Own properties only: `constructor` or `__proto__` is not a command.
      const next = Object.hasOwn(subCommands, first) ? subCommands[first] : undefined;
      if (!next) throw await unknownCommand(command, name, first);
      command = await resolve(next);
      name = `${name} ${first}`;
      rest = rest.slice(1);
    }
    const end = rest.indexOf("--");
    if ((end === -1 ? rest : rest.slice(0, end)).some((t) => t === "--help" || t === "-h")) {
      await printUsage(command, name, "stdout");
      return EXIT_OK;
    }
    defs = ((await resolve(command.args)) ?? {}) as Record<string, VeArgDef>;
    parsed = parseArgv(rest, defs, name);
    const result = await command.run?.({ args: { _: [], ...parsed } as never, rawArgs: [...rest], cmd: command });
    return typeof result === "number" ? result : EXIT_OK;
  } catch (error) {
    // The rewording is loaded only when there is something to reword: most runs fail never.
    const failure =
      error instanceof VeError
        ? defs
          ? (await import("./messages.ts")).inCliTerms(error, defs, parsed)
          : error
        : new VeError("internal", `ve failed unexpectedly (${error instanceof Error ? error.message : String(error)}); this is a bug, please report it.`);
    printError(failure, wantsJson(rest));
    return error instanceof VeError ? exitCodeOf(error) : 1;
  }
}
