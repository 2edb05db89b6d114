// Shell completion scripts for bash, zsh and fish, generated from the command table: every
// command, option and enum value the runner accepts is offered, nothing else. Chunk names
// are completed live, by asking `ve orch ps` of the project being typed in.
import { STATUSES } from "../domain.ts";
import type { VeArgDef } from "./command-defs.ts";
import { type Command, resolveValue, visibleSubCommands } from "./command-defs.ts";

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof SHELLS)[number];

/** What a value is completed from. */
type ValueSource = { kind: "words"; words: string[] } | { kind: "dirs" } | { kind: "files" } | { kind: "chunks" } | { kind: "none" };

interface OptionInfo {
  flags: string[];
  description: string;
  value: ValueSource | null;
}

interface Node {
  path: string;
  description: string;
  subCommands: string[];
  options: OptionInfo[];
  positionals: ValueSource[];
}

function valueSource(name: string, def: VeArgDef, commandName: string): ValueSource {
  if (def.type === "enum") return { kind: "words", words: [...(def.options ?? [])] };
  const hint = "valueHint" in def ? def.valueHint : undefined;
  if (hint === "dir") return { kind: "dirs" };
  if (hint === "path") return { kind: "files" };
  // A new unit's name is invented; every other chunk argument names an existing unit.
  if (hint === "chunk" && !(name === "chunk" && commandName === "create")) return { kind: "chunks" };
  if (name === "shell") return { kind: "words", words: [...SHELLS] };
  if (name === "new_status") return { kind: "words", words: [...STATUSES] };
  return { kind: "none" };
}

/** Every command reachable from `root` (hidden ones left out), with `help` and its words. */
export async function commandTree(root: Command, rootName = "ve"): Promise<Node[]> {
  const nodes: Node[] = [];
  const visit = async (command: Command, path: string[]) => {
    const meta = await resolveValue(command.meta);
    const subs = await visibleSubCommands(command);
    const defs = ((await resolveValue(command.args)) ?? {}) as Record<string, VeArgDef>;
    const leaf = path.at(-1) ?? rootName;
    const options: OptionInfo[] = [];
    const positionals: ValueSource[] = [];
    for (const [name, def] of Object.entries(defs)) {
      if (def.type === "positional") {
        positionals.push(valueSource(name, def, leaf));
        continue;
      }
      if (def.hidden === true) continue;
      const aliases = "alias" in def && def.alias ? (Array.isArray(def.alias) ? def.alias : [def.alias]) : [];
      options.push({
        flags: [`--${name}`, ...aliases.map((a) => (a.length === 1 ? `-${a}` : `--${a}`))],
        description: def.description ?? "",
        value: def.type === "boolean" ? null : valueSource(name, def, leaf),
      });
    }
    options.push({ flags: ["--help", "-h"], description: "Show the help of this command", value: null });
    if (path.length === 0) options.push({ flags: ["--version", "-v"], description: "Print the version", value: null });
    nodes.push({
      path: path.join(" "),
      description: meta?.description ?? "",
      subCommands: subs.length ? [...subs.map(([key]) => key), "help"] : [],
      options: subs.length && path.length > 0 ? options.filter((o) => o.flags[0] === "--help") : options,
      positionals,
    });
    for (const [key, sub] of subs) await visit(sub.command, [...path, key]);
  };
  await visit(root, []);
  return nodes;
}

/** Single-quoted for sh, zsh and fish alike. */
function quote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** The shared sh functions bash and zsh both call: what the table says at a command path. */
function shTable(nodes: readonly Node[], fn: string): string {
  const cases = (body: (node: Node) => string | undefined) =>
    nodes
      .map((node) => {
        const text = body(node);
        return text === undefined ? undefined : `    ${quote(node.path)}) ${text} ;;`;
      })
      .filter((line) => line !== undefined)
      .join("\n");
  const valueOf = (source: ValueSource) =>
    source.kind === "words" ? `echo ${quote(`words ${source.words.join(" ")}`)}` : `echo ${source.kind}`;
  const optionValues = nodes.flatMap((node) =>
    node.options
      .filter((o) => o.value !== null)
      .flatMap((o) => o.flags.map((flag) => `    ${quote(`${node.path}|${flag}`)}) ${valueOf(o.value as ValueSource)} ;;`)),
  );
  const positionals = nodes.flatMap((node) =>
    node.positionals.map((source, i) => `    ${quote(`${node.path}|${i}`)}) ${valueOf(source)} ;;`),
  );
  return `${fn}_subcommands() {
  case "$1" in
${cases((node) => (node.subCommands.length ? `echo ${quote(node.subCommands.join(" "))}` : undefined))}
  esac
}
${fn}_options() {
  case "$1" in
${cases((node) => `echo ${quote(node.options.flatMap((o) => o.flags).join(" "))}`)}
  esac
}
# What the value after option $2 of command $1 is completed from (nothing: it takes none).
${fn}_option_value() {
  case "$1|$2" in
${optionValues.join("\n")}
  esac
}
${fn}_positional() {
  case "$1|$2" in
${positionals.join("\n")}
    *) echo none ;;
  esac
}
# Chunk names of the project in question (--project-dir if given), or nothing when no daemon answers.
${fn}_chunks() {
  local ve="$1"; shift
  COLUMNS= "$ve" orch ps "$@" 2>/dev/null | while read -r chunk rest; do
    [ "$chunk" = CHUNK ] || [ "$chunk" = No ] || echo "$chunk"
  done
}
# Walks the words typed before the cursor: sets REPLY_PATH (the command), REPLY_PREV_OPTION
# (an option still waiting for its value), REPLY_INDEX (positionals seen) and REPLY_DIR.
${fn}_walk() {
  REPLY_PATH=""; REPLY_PREV_OPTION=""; REPLY_INDEX=0; REPLY_DIR=""
  local word subs expecting=""
  for word in "$@"; do
    if [ -n "$expecting" ]; then
      [ "$expecting" = --project-dir ] && REPLY_DIR="$word"
      expecting=""; continue
    fi
    case "$word" in
      --project-dir=*) REPLY_DIR="\${word#*=}"; continue ;;
      --*=*) continue ;;
      -*)
        if [ -n "$(${fn}_option_value "$REPLY_PATH" "$word")" ]; then expecting="$word"; fi
        continue ;;
    esac
    subs="$(${fn}_subcommands "$REPLY_PATH")"
    case " $subs " in
      *" $word "*) REPLY_PATH="\${REPLY_PATH:+$REPLY_PATH }$word" ;;
      *) REPLY_INDEX=$((REPLY_INDEX + 1)) ;;
    esac
  done
  REPLY_PREV_OPTION="$expecting"
}
# The candidates for the word being typed, one kind per line: "words ...", dirs, files, chunks.
${fn}_candidates() {
  local cur="$1"; shift
  ${fn}_walk "$@"
  local path="$REPLY_PATH" subs source
  if [ -n "$REPLY_PREV_OPTION" ]; then
    ${fn}_option_value "$path" "$REPLY_PREV_OPTION"
    return
  fi
  case "$path" in
    help) echo "words $(${fn}_subcommands "")"; return ;;
    *" help") echo "words $(${fn}_subcommands "\${path% help}")"; return ;;
  esac
  case "$cur" in -*) echo "words $(${fn}_options "$path")"; return ;; esac
  subs="$(${fn}_subcommands "$path")"
  if [ -n "$subs" ]; then echo "words $subs"; return; fi
  source="$(${fn}_positional "$path" "$REPLY_INDEX")"
  echo "$source"
}
`;
}

function bashScript(nodes: readonly Node[]): string {
  return `# bash completion for ve, generated by \`ve completion bash\` from its command table.
# Load it with:  source <(ve completion bash)   (or save it in ~/.local/share/bash-completion/completions/ve)
${shTable(nodes, "_ve")}
_ve() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" kind rest dir
  local candidates
  candidates="$(_ve_candidates "$cur" "\${COMP_WORDS[@]:1:COMP_CWORD-1}")"
  kind="\${candidates%% *}"; rest="\${candidates#* }"
  COMPREPLY=()
  case "$kind" in
    words) COMPREPLY=( $(compgen -W "$rest" -- "$cur") ) ;;
    dirs) COMPREPLY=( $(compgen -d -- "$cur") ) ;;
    files) COMPREPLY=( $(compgen -f -- "$cur") ) ;;
    chunks)
      _ve_walk "\${COMP_WORDS[@]:1:COMP_CWORD-1}"
      if [ -n "$REPLY_DIR" ]; then dir=(--project-dir "$REPLY_DIR"); else dir=(); fi
      COMPREPLY=( $(compgen -W "$(_ve_chunks "\${COMP_WORDS[0]}" "\${dir[@]}")" -- "$cur") ) ;;
  esac
}
complete -F _ve ve
`;
}

function zshScript(nodes: readonly Node[]): string {
  return `#compdef ve
# zsh completion for ve, generated by \`ve completion zsh\` from its command table.
# Load it with:  source <(ve completion zsh)   (or save it as _ve in a directory of $fpath)
${shTable(nodes, "_ve")}
_ve() {
  local cur="\${words[CURRENT]}" candidates kind rest
  local -a dir
  candidates="$(_ve_candidates "$cur" "\${(@)words[2,CURRENT-1]}")"
  kind="\${candidates%% *}"; rest="\${candidates#* }"
  case "$kind" in
    words) compadd -- \${=rest} ;;
    dirs) _files -/ ;;
    files) _files ;;
    chunks)
      _ve_walk "\${(@)words[2,CURRENT-1]}"
      if [[ -n "$REPLY_DIR" ]]; then dir=(--project-dir "$REPLY_DIR"); else dir=(); fi
      compadd -- \${(f)"$(_ve_chunks "\${words[1]}" "\${dir[@]}")"} ;;
  esac
}
if [[ "\${zsh_eval_context[-1]}" == loadautofunc ]]; then
  _ve "$@"
else
  compdef _ve ve
fi
`;
}

function fishScript(nodes: readonly Node[]): string {
  const lines = [
    "# fish completion for ve, generated by `ve completion fish` from its command table.",
    "# Load it with:  ve completion fish | source   (or save it as ~/.config/fish/completions/ve.fish)",
    "complete -c ve -f",
    "# The command path typed so far (`orch work-unit`), from the words before the cursor.",
    "function __ve_path",
    "    set -l path",
    "    set -l words (commandline -opc)",
    "    set -e words[1]",
    "    for word in $words",
    "        switch $word",
    "            case '-*'",
    "                continue",
    "        end",
    "        set -l subs (__ve_subcommands (string join ' ' $path))",
    "        if contains -- $word $subs",
    "            set -a path $word",
    "        else",
    "            break",
    "        end",
    "    end",
    "    string join ' ' $path",
    "end",
    "function __ve_subcommands",
    "    switch \"$argv[1]\"",
    ...nodes
      .filter((n) => n.subCommands.length)
      .flatMap((n) => [`        case ${quote(n.path)}`, `            printf '%s\\n' ${n.subCommands.map(quote).join(" ")}`]),
    "    end",
    "end",
    "function __ve_at",
    "    set -l path (__ve_path)",
    '    test "$path" = "$argv[1]"',
    "end",
    "# Chunk names of the project in question, or nothing when no daemon answers.",
    "function __ve_chunks",
    "    set -l words (commandline -opc)",
    "    set -l dir",
    "    set -l i (contains -i -- --project-dir $words)",
    "    and set dir --project-dir $words[(math $i + 1)]",
    "    env COLUMNS= $words[1] orch ps $dir 2>/dev/null | string match -rv '^(CHUNK|No work units)' | string replace -r ' .*' ''",
    "end",
  ];
  for (const node of nodes) {
    const at = `-n ${quote(`__ve_at ${quote(node.path)}`)}`;
    const groups = nodes.find((n) => n.path === node.path)?.subCommands ?? [];
    for (const sub of groups) {
      const child = nodes.find((n) => n.path === (node.path ? `${node.path} ${sub}` : sub));
      const description = sub === "help" ? "Show the help of a command" : (child?.description ?? "");
      lines.push(`complete -c ve ${at} -a ${quote(sub)} -d ${quote(description)}`);
    }
    for (const option of node.options) {
      const flags = option.flags
        .map((flag) => (flag.startsWith("--") ? `-l ${quote(flag.slice(2))}` : `-s ${quote(flag.slice(1))}`))
        .join(" ");
      let value = "";
      if (option.value?.kind === "words") value = ` -x -a ${quote(option.value.words.join(" "))}`;
      else if (option.value?.kind === "dirs") value = " -x -a '(__fish_complete_directories)'";
      else if (option.value?.kind === "files") value = " -r -F";
      else if (option.value?.kind === "chunks") value = " -x -a '(__ve_chunks)'";
      else if (option.value) value = " -x";
      lines.push(`complete -c ve ${at} ${flags}${value} -d ${quote(option.description)}`);
    }
    const first = node.positionals[0];
    if (first?.kind === "words") lines.push(`complete -c ve ${at} -a ${quote(first.words.join(" "))}`);
    if (node.positionals.some((p) => p.kind === "chunks")) lines.push(`complete -c ve ${at} -a '(__ve_chunks)'`);
    const second = node.positionals[1];
    if (second?.kind === "words") lines.push(`complete -c ve ${at} -a ${quote(second.words.join(" "))}`);
  }
  return `${lines.join("\n")}\n`;
}

export async function completionScript(shell: Shell, root: Command): Promise<string> {
  const nodes = await commandTree(root);
  return shell === "bash" ? bashScript(nodes) : shell === "zsh" ? zshScript(nodes) : fishScript(nodes);
}
