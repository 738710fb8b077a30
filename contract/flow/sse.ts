// A Server-Sent Events reader for Node's fetch (a ReadableStream of bytes), following the
// WHATWG event-stream parsing rules closely enough for a test: fields, comments, dispatch on a
// blank line, `id` kept across events, `retry` reported.

export interface SseMessage {
  event: string;
  data: string;
  lastEventId: string;
  retry: number | undefined;
}

export interface SseItem {
  kind: "message" | "comment" | "retry";
  message?: SseMessage;
  comment?: string;
  retry?: number;
}

export class SseReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private buffer = "";
  private lastEventId = "";
  private closed = false;

  constructor(body: ReadableStream<Uint8Array>) {
    this.reader = body.getReader();
  }

  private async line(): Promise<string | undefined> {
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (match !== null) {
        const line = this.buffer.slice(0, match.index);
        this.buffer = this.buffer.slice(match.index + match[0].length);
        return line;
      }
      if (this.closed) return undefined;
      const chunk = await this.reader.read();
      if (chunk.done) {
        this.closed = true;
        if (this.buffer === "") return undefined;
        const rest = this.buffer;
        this.buffer = "";
        return rest;
      }
      this.buffer += this.decoder.decode(chunk.value, { stream: true });
    }
  }

  /** The next message, comment or retry field; undefined once the stream ended. */
  async next(): Promise<SseItem | undefined> {
    let event = "";
    let data: string[] = [];
    let retry: number | undefined;
    let sawField = false;
    for (;;) {
      const line = await this.line();
      if (line === undefined) return undefined;
      if (line === "") {
        if (data.length > 0) {
          const message: SseMessage = { event: event || "message", data: data.join("\n"), lastEventId: this.lastEventId, retry };
          return { kind: "message", message };
        }
        if (retry !== undefined) return { kind: "retry", retry };
        event = "";
        data = [];
        sawField = false;
        continue;
      }
      if (line.startsWith(":")) {
        if (!sawField) return { kind: "comment", comment: line.slice(1).trim() };
        continue;
      }
      sawField = true;
      const colon = line.indexOf(":");
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
      else if (field === "id" && !value.includes("\0")) this.lastEventId = value;
      else if (field === "retry" && /^\d+$/.test(value)) retry = Number(value);
    }
  }

  /** Read until `accept` returns true for a message, or the deadline passes. */
  async until(accept: (message: SseMessage) => boolean, timeoutMs: number, seen: SseItem[] = []): Promise<SseMessage | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return undefined;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), remaining);
      });
      const item = await Promise.race([this.next(), timeout]);
      clearTimeout(timer);
      if (item === "timeout" || item === undefined) return undefined;
      seen.push(item);
      if (item.kind === "message" && item.message !== undefined && accept(item.message)) return item.message;
    }
  }

  async cancel(): Promise<void> {
    this.closed = true;
    await this.reader.cancel().catch(() => undefined);
  }
}
