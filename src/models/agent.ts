// What an agent tells the daemon about its own run: a question for the operator, or that its
// phase is done. The caller proves which run it speaks for with the run's secret (the header
// RUN_TOKEN_HEADER carrying VE_RUN_TOKEN); the body names the run (VE_RUN_ID).
import { type Static, Type } from "@sinclair/typebox";
import { AGENT_LIMITS } from "../domain.ts";
import { ChunkName, Timestamp, nullable, oneOf } from "./common.ts";

const requestBody = { additionalProperties: false, errorMessage: "must be a JSON object" } as const;

export { RUN_TOKEN_HEADER } from "../project/protocol.ts";

const QUESTION_MAX_CHARS = AGENT_LIMITS.question;
const OPTION_MAX_CHARS = AGENT_LIMITS.option;
const MAX_OPTIONS = AGENT_LIMITS.options;
const SUMMARY_MAX_CHARS = AGENT_LIMITS.summary;

export const AGENT_CALL_KINDS = ["ask", "done"] as const;
/** How the call arrived: `ve mcp`, `ve agent`, or read from the agent's own output stream. */
export const AGENT_CALL_VIA = ["mcp", "cli", "stream"] as const;

const RunId = Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9-]+$", errorMessage: "must be a run id (VE_RUN_ID)" });
const Via = Type.Optional(oneOf(["mcp", "cli"] as const));

export const AgentAskRequest = Type.Object(
  {
    run_id: RunId,
    question: Type.String({ minLength: 1, maxLength: QUESTION_MAX_CHARS, pattern: "\\S", errorMessage: `must be 1-${QUESTION_MAX_CHARS} characters, not only spaces` }),
    options: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: OPTION_MAX_CHARS, pattern: "\\S", errorMessage: `must be 1-${OPTION_MAX_CHARS} characters, not only spaces` }), {
        maxItems: MAX_OPTIONS,
        errorMessage: `must be a list of at most ${MAX_OPTIONS} choices`,
      }),
    ),
    via: Via,
  },
  requestBody,
);
export type AgentAskRequest = Static<typeof AgentAskRequest>;

export const AgentDoneRequest = Type.Object(
  {
    run_id: RunId,
    summary: Type.Optional(Type.String({ maxLength: SUMMARY_MAX_CHARS, errorMessage: `must be at most ${SUMMARY_MAX_CHARS} characters` })),
    via: Via,
  },
  requestBody,
);
export type AgentDoneRequest = Static<typeof AgentDoneRequest>;

export const AgentCall = Type.Object(
  {
    kind: oneOf(AGENT_CALL_KINDS),
    via: oneOf(AGENT_CALL_VIA),
    question: nullable(Type.String()),
    options: nullable(Type.Array(Type.String())),
    summary: nullable(Type.String()),
    at: Timestamp,
  },
  { additionalProperties: false },
);
export type AgentCall = Static<typeof AgentCall>;

export const AgentCallRecorded = Type.Object(
  {
    run_id: Type.String(),
    chunk: ChunkName,
    call: AgentCall,
    /** What the agent should do now (end its turn): the text `ve mcp` and `ve agent` show it. */
    message: Type.String(),
  },
  { additionalProperties: false },
);
export type AgentCallRecorded = Static<typeof AgentCallRecorded>;
