// A fetch stand-in for unit tests: records every call and answers from a handler.
export interface FakeCall {
  readonly method: string;
  readonly url: string;
  readonly headers: Headers;
  readonly body?: Uint8Array;
}

export type Handler = (call: FakeCall, n: number) => Response | Promise<Response>;

export interface FakeFetch {
  readonly fetch: typeof fetch;
  readonly calls: FakeCall[];
}

async function bodyBytes(body: unknown): Promise<Uint8Array | undefined> {
  if (body === undefined || body === null) return undefined;
  return new Uint8Array(await new Response(body as ConstructorParameters<typeof Response>[0]).arrayBuffer());
}

export function fakeFetch(handler: Handler): FakeFetch {
  const calls: FakeCall[] = [];
  const fn = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const call: FakeCall = {
      method: init?.method ?? "GET",
      url: input instanceof Request ? input.url : input.toString(),
      headers: new Headers(init?.headers),
      body: await bodyBytes(init?.body),
    };
    calls.push(call);
    return await handler(call, calls.length);
  };
  return { fetch: fn as unknown as typeof fetch, calls };
}

/** A fetch error like Bun's for a refused connection. */
export function connectionRefused(): Error {
  return Object.assign(new TypeError("Unable to connect. Is the computer able to access the url?"), { code: "ECONNREFUSED" });
}

export const noSleep = async (): Promise<void> => {};
export const never = new AbortController().signal;
