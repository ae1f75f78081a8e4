/**
 * One outbound call to a gateway: the status and the whole body within ONE time limit. Not
 * every fetch (mocks, some runtimes) ties the abort signal to a body still arriving, and a
 * trickling answer must time out like a silent one: "unknown", never a late verdict.
 */
export async function fetchText(
  fetcher: typeof fetch,
  url: string,
  init: RequestInit,
  timeoutMs: number,
): Promise<{ status: number; ok: boolean; text: string }> {
  const signal = AbortSignal.timeout(timeoutMs);
  const response = await fetcher(url, { ...init, signal });
  const text = await new Promise<string>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    response
      .text()
      .then(resolve, reject)
      .finally(() => signal.removeEventListener('abort', onAbort));
  });
  return { status: response.status, ok: response.ok, text };
}
