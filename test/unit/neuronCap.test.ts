import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capNeurons } from '../../src/core/measures/neuronCap';

const layers = [
  { name: 'a', start: 0, end: 10 },
  { name: 'b', start: 10, end: 13 },
  { name: 'c', start: 13, end: 113 },
];

void test('no cap, or layers within the cap, keep every column', () => {
  assert.deepEqual(
    capNeurons(layers, null, 0),
    Array.from({ length: 113 }, (_, i) => i),
  );
  assert.deepEqual(
    capNeurons(layers.slice(0, 2), 10, 5),
    Array.from({ length: 13 }, (_, i) => i),
  );
});

void test('at most cap per layer, ascending, inside each layer, distinct', () => {
  const cols = capNeurons(layers, 4, 42);
  const inLayer = (l: { start: number; end: number }) =>
    cols.filter((c) => c >= l.start && c < l.end);
  assert.equal(inLayer(layers[0]).length, 4);
  assert.deepEqual(inLayer(layers[1]), [10, 11, 12]);
  assert.equal(inLayer(layers[2]).length, 4);
  assert.equal(cols.length, 11);
  assert.equal(new Set(cols).size, cols.length);
  assert.deepEqual(
    cols,
    [...cols].sort((a, b) => a - b),
  );
});

void test('deterministic in the seed; other seeds give other subsets', () => {
  assert.deepEqual(capNeurons(layers, 5, 3), capNeurons(layers, 5, 3));
  const subsets = new Set([1, 2, 3, 4, 5].map((s) => capNeurons(layers, 5, s).join(',')));
  assert.ok(subsets.size >= 4);
  // A layer's subset depends on the seed, its position and its size only: widening layer a
  // moves layer c but leaves its chosen offsets unchanged.
  const offsetsOfC = (ls: typeof layers) =>
    capNeurons(ls, 5, 9)
      .filter((x) => x >= ls[2].start)
      .map((x) => x - ls[2].start);
  const wider = [
    { name: 'a', start: 0, end: 50 },
    { name: 'b', start: 50, end: 53 },
    { name: 'c', start: 53, end: 153 },
  ];
  assert.deepEqual(offsetsOfC(layers), offsetsOfC(wider));
  assert.notDeepEqual(
    capNeurons(wider, 5, 9).filter((x) => x < 50),
    capNeurons(wider, 5, 9)
      .filter((x) => x >= 53)
      .map((x) => x - 53),
  );
});

void test('the cap draws uniformly: every neuron of a layer is chosen about cap/size of the time', () => {
  const counts = new Array<number>(100).fill(0);
  const trials = 2000;
  for (let s = 0; s < trials; s++) {
    for (const c of capNeurons([{ name: 'x', start: 0, end: 100 }], 10, s)) counts[c]++;
  }
  // Expected 200 per neuron, binomial sd about 13.4: 5 sd bounds.
  for (const c of counts) assert.ok(c > 133 && c < 267, `count ${c}`);
});

void test('refuses a cap that is not a positive integer', () => {
  assert.throws(() => capNeurons(layers, 0, 1), RangeError);
  assert.throws(() => capNeurons(layers, 2.5, 1), RangeError);
});
