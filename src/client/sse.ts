// Server-Sent Events as text/event-stream defines them: lines of `field: value`, a blank line
// ending each message, `:` lines being comments. Fed whatever pieces the connection delivers.

export interface SseMessage {
  /** The `id:` of this message, if it had one. */
  id: string | undefined;
  event: string;
  data: string;
}

export class SseParser {
  private readonly decoder = new TextDecoder();
  private rest = "";
  private id: string | undefined;
  private event = "";
  private data: string[] = [];
  /** Comment lines seen (heartbeats), for whoever wants to know the stream is alive. */
  comments = 0;

  /** The messages completed by `bytes` (and what came before it). */
  feed(bytes: Uint8Array): SseMessage[] {
    const text = this.rest + this.decoder.decode(bytes, { stream: true });
    const messages: SseMessage[] = [];
    let start = 0;
    for (;;) {
      const end = text.indexOf("\n", start);
      if (end === -1) break;
      let line = text.slice(start, end);
      start = end + 1;
      if (line.endsWith("\r")) line = line.slice(0, -1);
      this.line(line, messages);
    }
    this.rest = text.slice(start);
    return messages;
  }

  private line(line: string, messages: SseMessage[]): void {
    if (line === "") {
      if (this.data.length > 0 || this.event !== "") {
        messages.push({ id: this.id, event: this.event || "message", data: this.data.join("\n") });
      }
      this.id = undefined;
      this.event = "";
      this.data = [];
      return;
    }
    if (line.startsWith(":")) {
      this.comments++;
      return;
    }
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "id") this.id = value;
    else if (field === "event") this.event = value;
    else if (field === "data") this.data.push(value);
  }
}
