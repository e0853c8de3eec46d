import * as fc from 'fast-check';
import { KeyRange } from '../lib';
import { compareShardStarts, validateKeyRangeTiling, validateShardName } from '../lib/internal/names';

/** A shard name's two bounds, read with a pattern of this test's own ('0' and '-' are the full range). */
function bounds(shard: string): { start: string; end: string } {
  if (shard === '0' || shard === '-') {
    return { start: '', end: '' };
  }
  const match = /^([0-9a-f]*)-([0-9a-f]*)$/.exec(shard);
  if (!match) {
    throw new Error(`not a key range: '${shard}'`);
  }
  return { start: match[1], end: match[2] };
}

/** The number of hex digits of the longest bound of the shards. */
function digitsOf(shards: readonly string[]): number {
  return Math.max(...shards.map((shard) => Math.max(bounds(shard).start.length, bounds(shard).end.length)));
}

/** A shard's bounds as whole numbers at `digits` hex digits: '' is 0 as a start and 16^digits as an end. */
function units(shard: string, digits: number): { start: bigint; end: bigint } {
  const { start, end } = bounds(shard);
  const value = (bound: string): bigint => BigInt(`0x${bound.padEnd(digits, '0')}`);
  return {
    start: start === '' ? 0n : value(start),
    end: end === '' ? 16n ** BigInt(digits) : value(end),
  };
}

/** The widths of the shards at `digits` hex digits. */
function widths(shards: readonly string[], digits: number): bigint[] {
  return shards.map((shard) => {
    const { start, end } = units(shard, digits);
    return end - start;
  });
}

/** Whether each shard starts after the one before it (key order, no two with one start). */
function inKeyOrder(shards: readonly string[]): boolean {
  return shards.every((shard, i) => i === 0 || compareShardStarts(shards[i - 1], shard) < 0);
}

/** The shards whose name `KeyRange.parse` reads otherwise than this test does, or whose bounds are not `digits` long. */
function misread(shards: readonly string[], digits: number): string[] {
  return shards.filter((shard) => {
    const parsed = KeyRange.parse(shard);
    const { start, end } = bounds(shard);
    return (
      parsed.start !== start ||
      parsed.end !== end ||
      [start, end].some((b) => b !== '' && b.length !== digits)
    );
  });
}

/**
 * Shard counts: mostly small (both sides of the switch from 2 to 4 hex digits at 256), one in ten up
 * to the largest allowed. A run of 65536 shards takes about 0.1 s, so the large ones are few; the
 * largest count has a test of its own below.
 */
const counts = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 300 }), weight: 9 },
  { arbitrary: fc.integer({ min: 301, max: 65536 }), weight: 1 },
);

/** A key-range bound: 0 to 3 bytes in lowercase hex ('' is unbounded). */
const bound = fc
  .array(fc.integer({ min: 0, max: 255 }), { minLength: 0, maxLength: 3 })
  .map((bytes) => bytes.map((b) => b.toString(16).padStart(2, '0')).join(''));

/** Valid shard names: `0`, `-` and key ranges with bounds of mixed widths. */
const shards = fc.oneof(
  { arbitrary: fc.constantFrom('0', '-'), weight: 1 },
  {
    arbitrary: fc
      .tuple(bound, bound)
      .filter(([start, end]) => end === '' || start.padEnd(6, '0') < end.padEnd(6, '0'))
      .map(([start, end]) => `${start}-${end}`),
    weight: 5,
  },
);

/** Vitess's expected outputs of `GenerateShardRanges` (go/vt/key/key_test.go, TestGenerateShardRanges). */
const VITESS_GENERATE_SHARD_RANGES: Record<number, string[]> = {
  2: ['-80', '80-'],
  7: ['-24', '24-49', '49-6d', '6d-92', '92-b6', 'b6-db', 'db-'],
  49: [
    '-05', '05-0a', '0a-0f', '0f-14', '14-1a', '1a-1f', '1f-24', '24-29', '29-2f', '2f-34', '34-39', '39-3e',
    '3e-43', '43-49', '49-4e', '4e-53', '53-58', '58-5e', '5e-63', '63-68', '68-6d', '6d-72', '72-78', '78-7d',
    '7d-82', '82-87', '87-8d', '8d-92', '92-97', '97-9c', '9c-a1', 'a1-a7', 'a7-ac', 'ac-b1', 'b1-b6', 'b6-bc',
    'bc-c1', 'c1-c6', 'c6-cb', 'cb-d0', 'd0-d6', 'd6-db', 'db-e0', 'e0-e5', 'e5-eb', 'eb-f0', 'f0-f5', 'f5-fa',
    'fa-',
  ],
  103: [
    '-02', '02-04', '04-07', '07-09', '09-0c', '0c-0e', '0e-11', '11-13', '13-16', '16-18', '18-1b', '1b-1d',
    '1d-20', '20-22', '22-25', '25-27', '27-2a', '2a-2c', '2c-2f', '2f-31', '31-34', '34-36', '36-39', '39-3b',
    '3b-3e', '3e-40', '40-43', '43-45', '45-48', '48-4a', '4a-4d', '4d-4f', '4f-52', '52-54', '54-56', '56-59',
    '59-5b', '5b-5e', '5e-60', '60-63', '63-65', '65-68', '68-6a', '6a-6d', '6d-6f', '6f-72', '72-74', '74-77',
    '77-79', '79-7c', '7c-7e', '7e-81', '81-83', '83-86', '86-88', '88-8b', '8b-8d', '8d-90', '90-92', '92-95',
    '95-97', '97-9a', '9a-9c', '9c-9f', '9f-a1', 'a1-a4', 'a4-a6', 'a6-a9', 'a9-ab', 'ab-ad', 'ad-b0', 'b0-b2',
    'b2-b5', 'b5-b7', 'b7-ba', 'ba-bc', 'bc-bf', 'bf-c1', 'c1-c4', 'c4-c6', 'c6-c9', 'c9-cb', 'cb-ce', 'ce-d0',
    'd0-d3', 'd3-d5', 'd5-d8', 'd8-da', 'da-dd', 'dd-df', 'df-e2', 'e2-e4', 'e4-e7', 'e7-e9', 'e9-ec', 'ec-ee',
    'ee-f1', 'f1-f3', 'f3-f6', 'f6-f8', 'f8-fb', 'fb-fd', 'fd-',
  ],
  107: [
    '-02', '02-04', '04-07', '07-09', '09-0b', '0b-0e', '0e-10', '10-13', '13-15', '15-17', '17-1a', '1a-1c',
    '1c-1f', '1f-21', '21-23', '23-26', '26-28', '28-2b', '2b-2d', '2d-2f', '2f-32', '32-34', '34-37', '37-39',
    '39-3b', '3b-3e', '3e-40', '40-42', '42-45', '45-47', '47-4a', '4a-4c', '4c-4e', '4e-51', '51-53', '53-56',
    '56-58', '58-5a', '5a-5d', '5d-5f', '5f-62', '62-64', '64-66', '66-69', '69-6b', '6b-6e', '6e-70', '70-72',
    '72-75', '75-77', '77-7a', '7a-7c', '7c-7e', '7e-81', '81-83', '83-85', '85-88', '88-8a', '8a-8d', '8d-8f',
    '8f-91', '91-94', '94-96', '96-99', '99-9b', '9b-9d', '9d-a0', 'a0-a2', 'a2-a5', 'a5-a7', 'a7-a9', 'a9-ac',
    'ac-ae', 'ae-b1', 'b1-b3', 'b3-b5', 'b5-b8', 'b8-ba', 'ba-bd', 'bd-bf', 'bf-c1', 'c1-c4', 'c4-c6', 'c6-c8',
    'c8-cb', 'cb-cd', 'cd-d0', 'd0-d2', 'd2-d4', 'd4-d7', 'd7-d9', 'd9-dc', 'dc-de', 'de-e0', 'e0-e3', 'e3-e5',
    'e5-e8', 'e8-ea', 'ea-ec', 'ec-ef', 'ef-f1', 'f1-f4', 'f4-f6', 'f6-f8', 'f8-fb', 'fb-fd', 'fd-',
  ],
};

/** `count` consecutive shards of `step` units each at `digits` hex digits, as Vitess lists them for 256 and 512. */
function evenSteps(count: number, step: number, digits: number): string[] {
  const hex = (value: number): string => value.toString(16).padStart(digits, '0');
  return Array.from({ length: count }, (_, i) => `${i === 0 ? '' : hex(i * step)}-${i === count - 1 ? '' : hex((i + 1) * step)}`);
}

describe('KeyRange.equalShards', () => {
  test('gives the shards of the examples', () => {
    // GIVEN / WHEN / THEN
    expect(KeyRange.equalShards(2)).toEqual(['-80', '80-']);
    expect(KeyRange.equalShards(3)).toEqual(['-55', '55-aa', 'aa-']);
    expect(KeyRange.equalShards(4)).toEqual(['-40', '40-80', '80-c0', 'c0-']);
    expect(KeyRange.equalShards(6)).toEqual(['-2a', '2a-55', '55-80', '80-aa', 'aa-d5', 'd5-']);
    expect(KeyRange.equalShards(10)).toEqual(['-19', '19-33', '33-4c', '4c-66', '66-80', '80-99', '99-b3', 'b3-cc', 'cc-e6', 'e6-']);
  });

  test('gives the unsharded shard 0 for one shard', () => {
    // GIVEN / WHEN
    const shards = KeyRange.equalShards(1);

    // THEN
    expect(shards).toEqual(['0']);
  });

  test("gives Vitess's GenerateShardRanges outputs for more than one shard", () => {
    // GIVEN
    const expected: Array<[number, string[]]> = [
      ...Object.entries(VITESS_GENERATE_SHARD_RANGES).map(([count, names]): [number, string[]] => [Number(count), names]),
      [256, evenSteps(256, 1, 2)],
      [512, evenSteps(512, 0x80, 4)],
    ];

    // WHEN / THEN
    for (const [count, names] of expected) {
      expect(names).toHaveLength(count);
      expect(KeyRange.equalShards(count)).toEqual(names);
    }
  });

  test('uses 2 hex digits up to 256 shards and 4 from 257 shards', () => {
    // GIVEN / WHEN
    const s256 = KeyRange.equalShards(256);
    const s257 = KeyRange.equalShards(257);

    // THEN
    expect([s256[0], s256[1], s256[255]]).toEqual(['-01', '01-02', 'ff-']);
    expect(s257).toHaveLength(257);
    expect([s257[0], s257[1], s257[2], s257[255], s257[256]]).toEqual(['-00ff', '00ff-01fe', '01fe-02fd', 'fe01-ff00', 'ff00-']);
  });

  test('gives 65536 shards of one unit at 4 hex digits', () => {
    // GIVEN / WHEN
    const shards = KeyRange.equalShards(65536);

    // THEN
    expect(shards).toHaveLength(65536);
    expect(shards).toEqual(evenSteps(65536, 1, 4));
  });

  test.each([0, -1, 1.5, 65537, NaN, Infinity])('fails for a count of %p', (count) => {
    expect(() => KeyRange.equalShards(count)).toThrow(
      `KeyRange.equalShards: 'count' must be a whole number from 1 to 65536, got ${count}`,
    );
  });

  describe('properties', () => {
    test('every name is a valid shard name, the shards are in key order and unique, and tile the whole range', () => {
      fc.assert(
        fc.property(counts, (count) => {
          // WHEN
          const shards = KeyRange.equalShards(count);

          // THEN
          expect(shards).toHaveLength(count);
          for (const shard of shards) {
            validateShardName('T', 'shard', shard);
          }
          expect(inKeyOrder(shards)).toBe(true);
          expect(new Set(shards).size).toBe(count);
          if (count >= 2) {
            validateKeyRangeTiling('x', 'y', '0', shards);
          }
        }),
        { numRuns: 100 },
      );
    });

    test('the names parse back to bounds of one width, 2 hex digits up to 256 shards and 4 above, and equal widths within one unit', () => {
      fc.assert(
        fc.property(counts.filter((count) => count >= 2), (count) => {
          // WHEN
          const shards = KeyRange.equalShards(count);

          // THEN
          const digits = count <= 256 ? 2 : 4;
          expect(misread(shards, digits)).toEqual([]);
          const total = 16n ** BigInt(digits);
          const n = BigInt(count);
          const [low, high] = [total / n, (total + n - 1n) / n];
          const ws = widths(shards, digits);
          expect(ws.filter((w) => w !== low && w !== high)).toEqual([]);
          expect(ws.reduce((a, b) => a + b, 0n)).toBe(total);
        }),
        { numRuns: 100 },
      );
    });

    test('a power of two gives shards of exactly equal width', () => {
      for (let k = 1; k <= 16; k++) {
        // GIVEN
        const count = 2 ** k;

        // WHEN
        const shards = KeyRange.equalShards(count);

        // THEN
        const ws = widths(shards, digitsOf(shards));
        expect(new Set(ws).size).toBe(1);
        expect(ws[0] * BigInt(count)).toBe(16n ** BigInt(digitsOf(shards)));
      }
    });
  });
});

describe('KeyRange.equalShardsOf', () => {
  test('splits a shard into equal shards', () => {
    // GIVEN / WHEN / THEN
    expect(KeyRange.equalShardsOf('-80', 2)).toEqual(['-40', '40-80']);
    expect(KeyRange.equalShardsOf('80-', 2)).toEqual(['80-c0', 'c0-']);
    expect(KeyRange.equalShardsOf('40-80', 4)).toEqual(['40-50', '50-60', '60-70', '70-80']);
    expect(KeyRange.equalShardsOf('-80', 3)).toEqual(['-2a', '2a-55', '55-80']);
    expect(KeyRange.equalShardsOf('00-80', 2)).toEqual(['00-40', '40-80']);
  });

  test('adds bytes to the names when the shard is too narrow for one unit each', () => {
    // GIVEN / WHEN / THEN
    expect(KeyRange.equalShardsOf('80-81', 2)).toEqual(['8000-8080', '8080-8100']);
    expect(KeyRange.equalShardsOf('ff-', 3)).toEqual(['ff00-ff55', 'ff55-ffaa', 'ffaa-']);
    expect(KeyRange.equalShardsOf('40-8000', 2)).toEqual(['4000-6000', '6000-8000']);
  });

  test('gives the shard itself for one shard', () => {
    // GIVEN / WHEN / THEN
    expect(KeyRange.equalShardsOf('-80', 1)).toEqual(['-80']);
    expect(KeyRange.equalShardsOf('-', 1)).toEqual(['-']);
    expect(KeyRange.equalShardsOf('0', 1)).toEqual(['0']);
  });

  test('splits the full range as equalShards does, whether it is named 0 or -', () => {
    for (const count of [2, 3, 7, 256, 257, 1000]) {
      expect(KeyRange.equalShardsOf('0', count)).toEqual(KeyRange.equalShards(count));
      expect(KeyRange.equalShardsOf('-', count)).toEqual(KeyRange.equalShards(count));
    }
  });

  test('fails for an invalid shard name', () => {
    expect(() => KeyRange.equalShardsOf('8-', 2)).toThrow(
      "KeyRange.equalShardsOf: 'shard' must be '0', '-' or a lowercase hex key range 'start-end' with whole bytes " +
        "(e.g. '-80', '80-', '40-80'), got '8-'",
    );
    expect(() => KeyRange.equalShardsOf('C0-', 2)).toThrow(/'shard' must be .* got 'C0-'/);
    expect(() => KeyRange.equalShardsOf('-00', 2)).toThrow(
      "KeyRange.equalShardsOf: 'shard' key range '-00' must have its start below its end",
    );
    expect(() => KeyRange.equalShardsOf('80-40', 2)).toThrow(
      "KeyRange.equalShardsOf: 'shard' key range '80-40' must have its start below its end",
    );
  });

  test.each([0, 2.5, 65537])('fails for a count of %p', (count) => {
    expect(() => KeyRange.equalShardsOf('-80', count)).toThrow(
      `KeyRange.equalShardsOf: 'count' must be a whole number from 1 to 65536, got ${count}`,
    );
  });

  describe('properties', () => {
    test('the shards are valid, in key order, unique, and tile the shard that was split', () => {
      fc.assert(
        fc.property(shards, counts, (shard, count) => {
          // WHEN
          const parts = KeyRange.equalShardsOf(shard, count);

          // THEN
          expect(parts).toHaveLength(count);
          for (const part of parts) {
            validateShardName('T', 'shard', part);
          }
          expect(inKeyOrder(parts)).toBe(true);
          expect(new Set(parts).size).toBe(count);
          if (count >= 2) {
            validateKeyRangeTiling('x', 'y', shard, parts);
          } else {
            expect(parts).toEqual([shard]);
          }
        }),
        { numRuns: 100 },
      );
    });

    test('the names parse back to bounds of one width, no wider than needed, and equal widths within one unit', () => {
      fc.assert(
        fc.property(shards, counts.filter((count) => count >= 2), (shard, count) => {
          // WHEN
          const parts = KeyRange.equalShardsOf(shard, count);

          // THEN
          const digits = digitsOf(parts);
          expect(misread(parts, digits)).toEqual([]);
          const source = units(shard, digits);
          const total = source.end - source.start;
          const n = BigInt(count);
          const ws = widths(parts, digits);
          expect(ws.filter((w) => w !== total / n && w !== (total + n - 1n) / n)).toEqual([]);
          expect(ws.every((w) => w >= 1n)).toBe(true);
          // One byte fewer would leave some shard empty, unless the width is the shard's own.
          const sourceDigits = shard === '0' || shard === '-' ? 0 : digitsOf([shard]);
          if (digits > sourceDigits) {
            expect(total / 256n < n).toBe(true);
          }
        }),
        { numRuns: 100 },
      );
    });

    test('a power of two that fits the width of the shard gives shards of exactly equal width', () => {
      fc.assert(
        // Exponents up to 10 three times as often as 11 to 16 (up to 65536 shards).
        fc.property(shards, fc.oneof({ arbitrary: fc.integer({ min: 1, max: 10 }), weight: 3 }, fc.integer({ min: 11, max: 16 })), (shard, k) => {
          // GIVEN
          const count = 2 ** k;

          // WHEN
          const parts = KeyRange.equalShardsOf(shard, count);

          // THEN
          const digits = digitsOf(parts);
          const source = units(shard, digits);
          const total = source.end - source.start;
          const ws = widths(parts, digits);
          if (total % BigInt(count) === 0n) {
            expect(new Set(ws).size).toBe(1);
          } else {
            expect(new Set(ws).size).toBe(2);
          }
        }),
        { numRuns: 100 },
      );
    });
  });
});

describe('KeyRange.parse', () => {
  test('gives the bounds of a shard name', () => {
    // GIVEN / WHEN / THEN
    expect(KeyRange.parse('-80')).toEqual({ start: '', end: '80' });
    expect(KeyRange.parse('80-')).toEqual({ start: '80', end: '' });
    expect(KeyRange.parse('40-8000')).toEqual({ start: '40', end: '8000' });
    expect(KeyRange.parse('0')).toEqual({ start: '', end: '' });
    expect(KeyRange.parse('-')).toEqual({ start: '', end: '' });
  });

  test('fails for an invalid shard name', () => {
    expect(() => KeyRange.parse('1')).toThrow(/^KeyRange.parse: 'shard' must be '0', '-' or a lowercase hex key range .*got '1'$/);
  });
});
