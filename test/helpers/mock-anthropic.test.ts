// The mock Anthropic API itself, spoken to with plain fetch: the SSE sequence the real API
// sends, turns counted from the request's assistant messages, reply lists for retries, the
// usage-limit headers, and unscripted requests recorded instead of guessed.
import { afterEach, describe, expect, test } from "bun:test";
import { type MockAnthropic, lastUserMessage, startMockAnthropic, userText } from "./mock-anthropic.ts";

let mock: MockAnthropic | undefined;
afterEach(async () => {
  await mock?.stop();
  mock = undefined;
});

function post(url: string, messages: unknown[], stream = true) {
  return fetch(`${url}/v1/messages?beta=true`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "m", stream, messages }),
  });
}

function streamed(text: string): string {
  return events(text)
    .filter((e) => e.data.delta?.type === "text_delta")
    .map((e) => e.data.delta.text)
    .join("");
}

function events(text: string): Array<{ event: string; data: any }> {
  return text
    .split("\n\n")
    .filter((chunk) => chunk.trim() !== "")
    .map((chunk) => {
      const [eventLine, dataLine] = chunk.split("\n");
      return { event: eventLine!.slice("event: ".length), data: JSON.parse(dataLine!.slice("data: ".length)) };
    });
}

describe("mock-anthropic", () => {
  test("streams text and tool calls as the Messages API does, turn by turn", async () => {
    mock = await startMockAnthropic([{ tool: { name: "Write", input: { file_path: "a.txt", content: "x" } }, text: "writing" }, { text: "done" }]);
    const first = events(await (await post(mock.url, [{ role: "user", content: "go" }])).text());
    expect(first.map((e) => e.event)).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    expect(first[5]!.data.content_block).toMatchObject({ type: "tool_use", name: "Write" });
    const json = first.filter((e) => e.data.delta?.type === "input_json_delta").map((e) => e.data.delta.partial_json).join("");
    expect(JSON.parse(json)).toEqual({ file_path: "a.txt", content: "x" });
    expect(first[9]!.data.delta.stop_reason).toBe("tool_use");
    // The second request carries the first answer; a trailing system entry does not matter.
    const second = events(
      await (
        await post(mock.url, [
          { role: "user", content: "go" },
          { role: "assistant", content: [{ type: "tool_use", id: "t", name: "Write", input: {} }] },
          { role: "user", content: [{ type: "tool_result", tool_use_id: "t", content: "ok" }] },
          { role: "system", content: "env" },
        ])
      ).text(),
    );
    expect(second.filter((e) => e.data.delta?.type === "text_delta").map((e) => e.data.delta.text).join("")).toBe("done");
    expect(second.at(-2)!.data.delta.stop_reason).toBe("end_turn");
    expect(mock.messages().map((r) => r.turn)).toEqual([0, 1]);
    expect(lastUserMessage(mock.messages()[1]!).content[0].type).toBe("tool_result");
  });

  test("picks the conversation by the user text and serves reply lists one per retry", async () => {
    mock = await startMockAnthropic([
      { match: "unit-b", turns: [[{ status: 529 }, { text: "b ok" }]] },
      { match: /unit-a/, turns: [{ text: "a ok" }] },
    ]);
    const a = await post(mock.url, [{ role: "user", content: "this is unit-a" }]);
    expect(streamed(await a.text())).toBe("a ok");
    const overloaded = await post(mock.url, [{ role: "user", content: "this is unit-b" }]);
    expect(overloaded.status).toBe(529);
    expect(await overloaded.json()).toMatchObject({ type: "error", error: { type: "overloaded_error" } });
    expect(streamed(await (await post(mock.url, [{ role: "user", content: "this is unit-b" }])).text())).toBe("b ok");
    expect(mock.messages().map((r) => r.conversation)).toEqual([1, 0, 0]);
    expect(userText(mock.messages()[0]!)).toBe("this is unit-a");
    const stray = await post(mock.url, [{ role: "user", content: "nobody" }]);
    expect(stray.status).toBe(200);
    expect(mock.unscripted).toHaveLength(1);
  });

  test("a usage limit answers 429 with the reset headers; other paths 404 with JSON", async () => {
    const resetsAt = Math.floor(Date.now() / 1000) + 3600;
    mock = await startMockAnthropic([{ usageLimit: { resetsAt } }]);
    const limited = await post(mock.url, [{ role: "user", content: "x" }]);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("anthropic-ratelimit-unified-status")).toBe("rejected");
    expect(limited.headers.get("anthropic-ratelimit-unified-reset")).toBe(String(resetsAt));
    const other = await fetch(`${mock.url}/v1/models`);
    expect(other.status).toBe(404);
    expect(await other.json()).toMatchObject({ type: "error" });
    expect(mock.requests.map((r) => r.path)).toEqual(["/v1/messages", "/v1/models"]);
  });

  test("a hanging reply holds the stream open after its first delta until released", async () => {
    mock = await startMockAnthropic([{ hang: true, text: "partial" }]);
    const response = await post(mock.url, [{ role: "user", content: "x" }]);
    const reader = response.body!.getReader();
    let seen = "";
    while (!seen.includes("partial")) seen += new TextDecoder().decode((await reader.read()).value);
    expect(seen).not.toContain("message_stop");
    mock.release();
    while (!(await reader.read()).done) {}
  });
});
