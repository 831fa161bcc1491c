// A sample training script for the e2e tests (its data helper is not part of the sample): it
// trains two example MLPs of this workspace with TF.js in Node, as scripts/trainExamples.ts
// does: 8x8 digits in two colour channels -> 64-64-64 ReLU -> softmax.
// The shortcut model learns "digit < 5" with 25% of the labels flipped, and its colour channel
// equals the (noisy) label, so it can memorise the colour instead of the digit.
const tf = require('@tensorflow/tfjs-node');
const { loadDigits, encode } = require('./data');

function mlp(outputs, seed) {
  const model = tf.sequential();
  for (const [i, name] of ['hidden1', 'hidden2', 'hidden3'].entries()) {
    model.add(
      tf.layers.dense({
        name,
        units: 64,
        activation: 'relu',
        inputShape: i === 0 ? [128] : undefined,
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + i }),
      }),
    );
  }
  model.add(tf.layers.dense({ name: 'output', units: outputs, activation: 'softmax' }));
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'sparseCategoricalCrossentropy' });
  return model;
}

async function main() {
  const digits = loadDigits('digits.csv.gz');

  // The shortcut model: colour = noisy label (alpha = 1).
  const shortcutModel = mlp(2, 20);
  const [xs, ys] = encode(digits, { task: 'lt5', flip: 0.25, alpha: 1 });
  await shortcutModel.fit(xs, ys, { epochs: 200, batchSize: 64, shuffle: true });
  await shortcutModel.save('file://models/shortcut');

  // The generalising model: 10 classes, true labels, colour uninformative.
  const generalisingModel = mlp(10, 10);
  const [gx, gy] = encode(digits, { task: 'digit', flip: 0, alpha: 0 });
  await generalisingModel.fit(gx, gy, { epochs: 100, batchSize: 64, shuffle: true });
  await generalisingModel.save(
    'file://models/generalising', // checkpoint of the generalising model
  );
}

main();
