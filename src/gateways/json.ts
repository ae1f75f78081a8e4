/**
 * A gateway's JSON body as an object, or undefined when it is not JSON or not an object: every
 * answer and notification the adapters read is one object, and anything else is "not one of ours",
 * never an exception.
 */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
