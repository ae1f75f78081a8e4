/**
 * The transaction ids a statement may give more than once, found while it is read, in fixed
 * memory whatever its size: a blocked Bloom filter (4 MB of bits; an id's three in one 64-byte block) that every id
 * passes through. An id whose three bits are already set may have been seen — it is kept as a
 * suspect. Every id that repeats is a suspect (a Bloom filter has no false negatives); a million
 * distinct ids make a few hundred innocent suspects as well. The matching (reconciliation.ts)
 * matches the lines of no suspect id in bulk and looks at the suspects' lines one by one, so an
 * innocent suspect costs a little time and changes no result.
 *
 * More suspects than `limit` (an adversarial file, or tens of millions of lines): `result()` is
 * null, "unknown", and the matching finds the repeats itself.
 */
/** 2^16 blocks of 512 bits (4 MB); an id's three bits are in one block: one cache line read per id. */
const LOG2_BLOCKS = 16;
const BLOCK_MASK = (1 << LOG2_BLOCKS) - 1;
const BLOCK_BYTES = 64;
const DEFAULT_LIMIT = 10_000;

export class RepeatFinder {
  private readonly bits = new Uint8Array((1 << LOG2_BLOCKS) * BLOCK_BYTES);
  private readonly suspects = new Set<string>();
  private overflow = false;
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();
  private scratch = new Uint8Array(256);

  constructor(private readonly limit = DEFAULT_LIMIT) {}

  /** An id as its UTF-8 bytes (the first `length` of `bytes`), as the import stores it. */
  offerBytes(bytes: Uint8Array, length: number): void {
    // FNV-1a picks the block; a second hash from it (murmur3's finaliser) the three bits in it.
    let h1 = 0x811c9dc5;
    for (let k = 0; k < length; k++) h1 = Math.imul(h1 ^ bytes[k]!, 0x01000193);
    let h2 = h1 ^ (h1 >>> 16);
    h2 = Math.imul(h2, 0x85ebca6b);
    h2 ^= h2 >>> 13;
    h2 = Math.imul(h2, 0xc2b2ae35);
    h2 ^= h2 >>> 16;
    const block = (h1 & BLOCK_MASK) * BLOCK_BYTES;
    let seen = true;
    for (let p = 0; p < 3; p++) {
      const bit = (h2 >>> (p * 9)) & 511;
      const byte = block + (bit >>> 3);
      const flag = 1 << (bit & 7);
      if ((this.bits[byte]! & flag) === 0) {
        seen = false;
        this.bits[byte] = this.bits[byte]! | flag;
      }
    }
    if (!seen || this.overflow) return;
    this.suspects.add(this.decoder.decode(bytes.subarray(0, length)));
    if (this.suspects.size > this.limit) {
      this.overflow = true;
      this.suspects.clear();
    }
  }

  /** An id as a string (null or '' is no id): its UTF-8 bytes, in a buffer of the finder's own (no array per id). */
  offer(id: string | null): void {
    if (!id) return;
    const length = id.length;
    if (this.scratch.length < length * 3) this.scratch = new Uint8Array(length * 3);
    const scratch = this.scratch;
    for (let k = 0; k < length; k++) {
      const c = id.charCodeAt(k);
      if (c >= 0x80) {
        this.offerBytes(scratch, this.encoder.encodeInto(id, scratch).written);
        return;
      }
      scratch[k] = c;
    }
    this.offerBytes(scratch, length);
  }

  /** The suspects (every id given more than once, and maybe a few others), or null when there were too many to keep. */
  result(): string[] | null {
    return this.overflow ? null : [...this.suspects].sort();
  }
}
