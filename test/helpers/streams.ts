/** A body delivered in chunks of `size` bytes, cut anywhere (inside a UTF-8 letter, a quoted field, a CR LF). */
export function chunked(bytes: Uint8Array, size = 7): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}
