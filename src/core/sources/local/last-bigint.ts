// BigInts made from pairs of 32-bit words (statx's and the walk records' timestamps, devices,
// inodes), remembered for the last few pairs: a tree's entries share a few timestamps' seconds
// and one device, and making each BigInt anew was milliseconds of a 10,000-entry walk.

/** An unsigned 64-bit value from its low and high words. */
export const u64 = (low: number, high: number): bigint => BigInt(low) | (BigInt(high) << 32n);

/** A timestamp's seconds (signed 64-bit, in two words) as nanoseconds. */
export const secondsNs = (low: number, high: number): bigint => BigInt.asIntN(64, u64(low, high)) * 1_000_000_000n;

/** A BigInt made from two words, remembered for the last few pairs asked for. */
export class LastBigInt {
  readonly #make: (low: number, high: number) => bigint;
  readonly #keys: number[] = [];
  readonly #values: bigint[] = [];
  #next = 0;

  constructor(make: (low: number, high: number) => bigint) {
    this.#make = make;
  }

  of(low: number, high: number): bigint {
    const keys = this.#keys;
    for (let k = 0; k < keys.length; k += 2) if (keys[k] === low && keys[k + 1] === high) return this.#values[k >> 1]!;
    const value = this.#make(low, high);
    // Four slots, reused round-robin (ctime and mtime seconds of one file may differ).
    const slot = this.#next++ & 3;
    keys[2 * slot] = low;
    keys[2 * slot + 1] = high;
    this.#values[slot] = value;
    return value;
  }
}
