import { LiveStreamRefused, openStream } from "./stream";

function streamingResponse(chunks: string[]): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" } });
}

afterEach(() => vi.unstubAllGlobals());

describe("openStream", () => {
  it("sends the bearer token and reads events split anywhere across chunks, every chunk as activity", async () => {
    const fetch = vi.fn(async () =>
      streamingResponse(["event: ready\r\ndata: {}\r\n\r\n: ping\r\n\r\nevent: jo", 'bs\r\ndata: {"ids": ["j', '1"]}\r\n\r\n']),
    );
    vi.stubGlobal("fetch", fetch);
    const events: [string, string][] = [];
    let opened = 0;
    let activity = 0;
    await openStream(
      "tok",
      { onOpen: () => (opened += 1), onEvent: (n, d) => events.push([n, d]), onActivity: () => (activity += 1) },
      new AbortController().signal,
    );
    expect(opened).toBe(1);
    expect(activity).toBe(3); // every chunk, a heartbeat included
    expect(events).toEqual([
      ["ready", "{}"],
      ["jobs", '{"ids": ["j1"]}'],
    ]);
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("/customer/events");
    expect((init.headers as Record<string, string>).Authorization).toBe("Bearer tok");
  });

  it("a refusal rejects with its status", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => new Response('{"error": "unauthorized"}', { status: 401 })));
    const opening = openStream("tok", { onOpen: () => undefined, onEvent: () => undefined, onActivity: () => undefined }, new AbortController().signal);
    await expect(opening).rejects.toEqual(new LiveStreamRefused(401));
  });
});
