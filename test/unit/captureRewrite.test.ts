import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitFusedLayers } from '../../src/core/capture/tfjs/layersRewrite';

const dense = (name: string, activation: string, inbound?: unknown[]) => ({
  class_name: 'Dense',
  config: { name, units: 2, activation, dtype: 'float32' },
  ...(inbound === undefined ? {} : { name, inbound_nodes: inbound }),
});
const act = (name: string, activation: string, inbound?: unknown[]) => ({
  class_name: 'Activation',
  config: { name: `${name}__activation`, trainable: false, dtype: 'float32', activation },
  ...(inbound === undefined ? {} : { name: `${name}__activation`, inbound_nodes: inbound }),
});

void describe('splitting fused activations in a layers-model topology', () => {
  void it('Sequential: inserts an Activation after each fused layer, which becomes linear', () => {
    const topo = {
      class_name: 'Sequential',
      config: { name: 's', layers: [dense('a', 'relu'), dense('b', 'linear'), dense('c', 'tanh')] },
    };
    const { topology, split } = splitFusedLayers(topo);
    assert.deepEqual([...split], ['a', 'c']);
    assert.deepEqual((topology.config as { layers: unknown[] }).layers, [
      dense('a', 'linear'),
      act('a', 'relu'),
      dense('b', 'linear'),
      dense('c', 'linear'),
      act('c', 'tanh'),
    ]);
    assert.equal(
      topo.config.layers[0].config.activation,
      'relu',
      'the input topology is not changed',
    );
  });

  void it('functional (Keras model_config wrapper): consumers, shared calls and outputs read the Activation', () => {
    const input = {
      class_name: 'InputLayer',
      config: { name: 'x', batch_input_shape: [null, 2] },
      name: 'x',
      inbound_nodes: [],
    };
    const topo = {
      keras_version: '2.15.0',
      model_config: {
        class_name: 'Functional',
        config: {
          name: 'm',
          input_layers: [['x', 0, 0]],
          layers: [
            input,
            dense('a', 'relu', [[['x', 0, 0, {}]], [['a', 0, 0, {}]]]),
            dense('out', 'softmax', [[['a', 1, 0, {}]]]),
          ],
          output_layers: [['out', 0, 0]],
        },
      },
    };
    const { topology, split } = splitFusedLayers(topo);
    assert.deepEqual([...split], ['a', 'out']);
    const config = (
      topology.model_config as { config: { layers: unknown[]; output_layers: unknown } }
    ).config;
    assert.deepEqual(config.layers, [
      input,
      // The shared layer's second call now reads the activated first call.
      dense('a', 'linear', [[['x', 0, 0, {}]], [['a__activation', 0, 0, {}]]]),
      act('a', 'relu', [[['a', 0, 0, {}]], [['a', 1, 0, {}]]]),
      dense('out', 'linear', [[['a__activation', 1, 0, {}]]]),
      act('out', 'softmax', [[['out', 0, 0, {}]]]),
    ]);
    assert.deepEqual(config.output_layers, [['out__activation', 0, 0]]);
  });
});
