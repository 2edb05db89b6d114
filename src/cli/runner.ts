// Runs citty command definitions with a strict parser. citty's own runCommand parses with
// node:util (1.5 ms of start-up, a third of `ve orch ps`), accepts unknown flags silently and
// keeps only the last of repeated flags; here an unknown or repeated flag is a usage error,
// `repeatable` flags collect every value, and help goes through citty's renderUsage.
import type { ArgDef, ArgsDef, CommandDef } from "citty";
import { VeError } from "../errors.ts";
import { VERSION } from "../version.ts";
import { EXIT_OK, exitCodeOf } from "./exit.ts";
import { type Stream, print, printErr, printError, stripAnsi, useColor } from "./output.ts";

/** An argument definition as citty knows it, plus `repeatable` for flags given several times. */
export type VeArgDef = ArgDef & { repeatable?: boolean };
export type Command = CommandDef<ArgsDef>;
export type ParsedArgs = Record<string, string | string[] | boolean | undefined>;

async function resolve<T>(value: T | Promise<T> | (() => T | Promise<T>)): Promise<T> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
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
    if (!token.startsWith("-") || token === "-") {
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
    if (name === undefined) throw usage(`Unknown option ${flag}`, commandName);
    const def = defs[name] as VeArgDef;
    if (def.type === "boolean") {
      if (inline !== undefined && inline !== "true" && inline !== "false") {
        throw usage(`${flag} takes no value (or =true / =false), not '${inline}'`, commandName);
      }
      values[name] = inline !== "false";
      continue;
    }
    let value: string;
    if (inline !== undefined) value = inline;
    else {
      const next = tokens[i + 1];
      if (next === undefined || (next.startsWith("-") && next !== "-")) throw usage(`${flag} needs a value`, commandName);
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
      list.push(...value.split(",").filter((v) => v !== ""));
      values[name] = list;
    } else {
      if (values[name] !== undefined) throw usage(`${flag} is given more than once`, commandName);
      values[name] = value;
    }
  }

  for (const [name, def] of Object.entries(defs)) {
    if (def.type === "positional") {
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
  // Loaded only for help: the commands themselves need nothing of citty at run time.
  const { renderUsage } = await import("citty");
  const parentName = name.split(" ").slice(0, -1).join(" ");
  const text = await renderUsage(command, parentName ? { meta: { name: parentName } } : undefined);
  const shown = useColor(stream) ? text : stripAnsi(text);
  if (stream === "stdout") print(shown);
  else printErr(shown);
}

function wantsJson(tokens: readonly string[]): boolean {
  const end = tokens.indexOf("--");
  return (end === -1 ? tokens : tokens.slice(0, end)).some((t) => t === "--json" || t === "--json=true");
}

/** Runs the command that `argv` names under `root`; returns the process exit code. */
export async function runCli(root: Command, argv: readonly string[]): Promise<number> {
  let command = root;
  let name = (await resolve(root.meta))?.name ?? "ve";
  let rest = argv;
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
        print(VERSION);
        return EXIT_OK;
      }
      if (first === undefined) {
        await printUsage(command, name, "stderr");
        throw new VeError("usage", `Missing command; see \`${name} --help\`.`);
      }
      if (first.startsWith("-")) throw usage(`Unknown option ${first} for \`${name}\` (options go after the command)`, name);
      // Own properties only: `constructor` or `__proto__` is not a command.
      const next = Object.hasOwn(subCommands, first) ? subCommands[first] : undefined;
      if (!next) {
        const visible: string[] = [];
        for (const [key, sub] of Object.entries(subCommands)) {
          if (!(await resolve((await resolve(sub)).meta))?.hidden) visible.push(key);
        }
        throw usage(`Unknown command '${first}' for \`${name}\` (commands: ${visible.join(", ")})`, name);
      }
      command = await resolve(next);
      name = `${name} ${first}`;
      rest = rest.slice(1);
    }
    const end = rest.indexOf("--");
    if ((end === -1 ? rest : rest.slice(0, end)).some((t) => t === "--help" || t === "-h")) {
      await printUsage(command, name, "stdout");
      return EXIT_OK;
    }
    const args = parseArgv(rest, (await resolve(command.args)) ?? {}, name);
    const result = await command.run?.({ args: { _: [], ...args } as never, rawArgs: [...rest], cmd: command });
    return typeof result === "number" ? result : EXIT_OK;
  } catch (error) {
    const failure =
      error instanceof VeError
        ? error
        : new VeError("internal", `ve failed unexpectedly (${error instanceof Error ? error.message : String(error)}); this is a bug, please report it.`);
    printError(failure, wantsJson(rest));
    return error instanceof VeError ? exitCodeOf(error) : 1;
  }
}
