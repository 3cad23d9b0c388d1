// A spec in a link: JSON, deflated, in base64url, so a whole experiment (seed included) fits in the address
// (`#/design?spec=…`) and opens pre-filled in the designer.

function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

async function pipe(
  bytes: Uint8Array<ArrayBuffer>,
  transform: CompressionStream | DecompressionStream,
): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(transform)).arrayBuffer());
}

export async function encodeSpec(spec: unknown): Promise<string> {
  return toBase64Url(await pipe(new TextEncoder().encode(JSON.stringify(spec)), new CompressionStream('deflate-raw')));
}

/** The spec in a link; throws an Error saying the link is damaged when it does not decode. */
export async function decodeSpec(encoded: string): Promise<unknown> {
  try {
    return JSON.parse(
      new TextDecoder().decode(await pipe(fromBase64Url(encoded), new DecompressionStream('deflate-raw'))),
    );
  } catch {
    throw new Error('the spec in this link is damaged (it did not decode); ask for the link again');
  }
}

/** The page's address that opens the designer with `spec`. */
export async function shareLink(spec: unknown): Promise<string> {
  return `${location.origin}${location.pathname}#/design?spec=${await encodeSpec(spec)}`;
}
