/**
 * @web3-storage/multipart-parser ships its types outside its package.json "exports": declared
 * here (the part of its API the statement upload uses; see its src/index.js).
 */
declare module '@web3-storage/multipart-parser' {
  export interface StreamedPart {
    name: string;
    filename?: string;
    contentType?: string;
    /** The part's content, read as it arrives: consume it before asking for the next part. */
    data: AsyncIterable<Uint8Array>;
  }
  export function streamMultipart(body: ReadableStream<Uint8Array>, boundary: string): AsyncGenerator<StreamedPart, void, unknown>;
}
