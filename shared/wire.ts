// JSON framing for the WebSocket host. Errors keep their name and message across the wire
// (JSON.stringify would turn them into `{}`); non-finite numbers arrive as null.

/** The largest frame the web host accepts; a bigger one closes the connection (1009). */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

export function encode(data: unknown): string {
  return JSON.stringify(data, (_key, value: unknown) =>
    value instanceof Error ? { name: value.name, message: value.message } : value,
  );
}

export function decode(text: string): unknown {
  return JSON.parse(text);
}

/** Turns what a rejected remote call delivers (an Error, or its JSON form) back into an Error. */
export function toError(reason: unknown): Error {
  if (reason instanceof Error) return reason;
  if (reason && typeof reason === 'object' && 'message' in reason)
    return new Error(String((reason as { message: unknown }).message));
  return new Error(String(reason));
}
