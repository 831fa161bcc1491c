// A sample training script for the e2e tests (its data helper is not part of the sample): it
// trains the shortcut-onset checkpoints of this workspace's models/shortcut-onset, as
// `scripts/trainExamples.ts --onset` does: the shortcut-baseline task with a random colour
// for six epochs, then colour = noisy label; a checkpoint every other epoch, epoch-2 to
// epoch-12. The saved path depends on the loop variable, so it is not known before a run.
const tf = require('@tensorflow/tfjs-node');
const { loadDigits, encode, mlp } = require('./data');

async function main() {
  const digits = loadDigits('digits.csv.gz');
  const onsetModel = mlp(2, 20);
  for (let epoch = 1; epoch <= 12; epoch++) {
    const [xs, ys] = encode(digits, { task: 'lt5', flip: 0.25, alpha: epoch > 6 ? 1 : 0 });
    await onsetModel.fit(xs, ys, { epochs: 1, batchSize: 64, shuffle: true });
    if (epoch % 2 === 0) await onsetModel.save(`file://models/shortcut-onset/epoch-${epoch}`);
  }
  tf.disposeVariables();
}

main();
