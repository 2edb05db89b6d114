// GET /events: every committed change as Server-Sent Events (the hub in engine/events.ts).
// Each stream is pulled by its connection: it takes the next events from the hub's ring only
// when the connection has written the last ones, so a reader that stops reading holds nothing
// but its place in the ring.
import { Elysia } from "elysia";
import { EVENT_BUFFER_EVENTS, HEARTBEAT_FRAME, HELLO_FRAME, type EventHub, type Subscription } from "../../engine/events.ts";
import { VeError } from "../../errors.ts";
import { EventData, EventsQuery } from "../../models/index.ts";
import { VERSION_HEADER } from "../../version.ts";
import { type RouteContext, operation } from "./kit.ts";

const eventsOp = operation("GET /events", {
  summary: "Every committed change as it happens, as Server-Sent Events",
  description:
    "A text/event-stream that stays open. Each change is an event with an increasing integer `id:`, an `event:` name " +
    "(`unit.created`, `unit.changed`, `unit.deleted`, `run.started`, `run.ended`, `attention.added`, `attention.resolved`) " +
    "and one line of JSON `data:`; the changes of one transaction come together, in the order they were made, a run's " +
    "end and a resolved attention record before the unit's change, a started run and an added record after it. " +
    "To resume after a disconnect, send the last id received as the `Last-Event-ID` header (or `last_event_id`): the " +
    `events after it follow while the daemon still buffers them (the last ${EVENT_BUFFER_EVENTS}); otherwise the stream starts with an ` +
    "event `reset` (reread the state, then go on). Comment lines (`: heartbeat`) keep an idle stream alive. A " +
    "subscriber that falls further behind than the buffer gets `dropped` and the stream ends; when the daemon stops, " +
    "`shutdown` ends it.",
  status: 200,
  response: EventData,
  mediaType: "text/event-stream",
  errors: ["validation_failed"],
  examples: [
    { title: "Follow every change from now on" },
    { title: "Resume after the last event received", query: "last_event_id=1764633600000042" },
  ],
});

/** Last-Event-ID as a client sends it: a whole number, or absent. */
function lastEventId(request: Request, query: string | undefined): number | undefined {
  const header = request.headers.get("last-event-id");
  if (header === null || header.trim() === "") return query === undefined ? undefined : Number(query);
  const value = Number(header.trim());
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new VeError("validation_failed", `Last-Event-ID must be the whole-number id of an event received, not '${header.slice(0, 40)}'.`, {
      field: "Last-Event-ID",
    });
  }
  return value;
}

/** The stream of one subscriber, pulled by its connection. */
export function eventStream(hub: EventHub, resumeAfter?: number): ReadableStream<Uint8Array> {
  let subscription: Subscription | undefined;
  let final: Uint8Array | undefined;
  let waiting: (() => void) | undefined;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const sink = {
          wake: () => waiting?.(),
          end: (frame: Uint8Array) => {
            final = frame;
            waiting?.();
          },
        };
        const { subscription: s, reset } = hub.subscribe(sink, resumeAfter);
        subscription = s;
        controller.enqueue(reset ? new Uint8Array(Bun.concatArrayBuffers([HELLO_FRAME, reset])) : HELLO_FRAME);
      },
      pull(controller) {
        const s = subscription as Subscription;
        // What there is goes out now; with nothing to send, wait for an event, a heartbeat or the end.
        const send = (idle: boolean): boolean => {
          const chunk = s.take();
          if (chunk) controller.enqueue(chunk);
          else if (final) {
            controller.enqueue(final);
            controller.close();
          } else if (idle) controller.enqueue(HEARTBEAT_FRAME);
          else return false;
          return true;
        };
        if (send(false)) return;
        return new Promise<void>((resolve) => {
          s.waiting = true;
          waiting = () => {
            s.waiting = false;
            waiting = undefined;
            send(true);
            resolve();
          };
        });
      },
      cancel() {
        subscription?.close();
      },
    },
    // One chunk waits in the stream at most: the next is taken only once it is written.
    { highWaterMark: 1 },
  );
}

export const eventRoutes = ({ events, info }: RouteContext) =>
  new Elysia({ normalize: false }).get(
    "/events",
    ({ request, query }) =>
      new Response(eventStream(events, lastEventId(request, query.last_event_id)), {
        status: 200,
        headers: {
          "content-type": "text/event-stream; charset=utf-8",
          "cache-control": "no-store",
          [VERSION_HEADER]: info.version,
        },
      }),
    { query: EventsQuery, detail: eventsOp.detail },
  );
