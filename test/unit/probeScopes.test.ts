// Which probe a model gets, from hand-made maps of per-model and per-folder choices.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveProbe, scopeKey, withScope } from '../../src/extension/logic/probeScopes';

const scopes = {
  'models/mnist/cnn.keras': '/data/mnist-28x28.npy',
  models: '/data/digits.npy',
  'models/mnist': '/data/mnist-784.npy',
};

void describe('resolveProbe', () => {
  void it("a model's own entry beats its folders, the setting and the workspace choice", () => {
    assert.deepEqual(resolveProbe(scopes, 'models/mnist/cnn.keras', '/s.npy', '/w.npy'), {
      probe: '/data/mnist-28x28.npy',
      from: 'model',
      scope: 'models/mnist/cnn.keras',
    });
  });

  void it('the nearest enclosing folder wins over a farther one', () => {
    assert.deepEqual(resolveProbe(scopes, 'models/mnist/mlp.onnx', '/s.npy', '/w.npy'), {
      probe: '/data/mnist-784.npy',
      from: 'folder',
      scope: 'models/mnist',
    });
    assert.deepEqual(resolveProbe(scopes, 'models/shortcut/model.json', undefined, undefined), {
      probe: '/data/digits.npy',
      from: 'folder',
      scope: 'models',
    });
  });

  void it('the workspace folder itself is the farthest folder', () => {
    const withRoot = withScope(scopes, '', '/root.npy');
    assert.equal(resolveProbe(withRoot, 'other/a.onnx', '/s.npy', undefined)?.probe, '/root.npy');
    assert.equal(
      resolveProbe(withRoot, 'models/x.onnx', undefined, undefined)?.probe,
      '/data/digits.npy',
    );
  });

  void it('without an entry: the setting, then the workspace choice, then nothing', () => {
    assert.deepEqual(resolveProbe(scopes, 'runs/a.onnx', '/s.npy', '/w.npy'), {
      probe: '/s.npy',
      from: 'setting',
    });
    assert.deepEqual(resolveProbe(scopes, 'runs/a.onnx', undefined, '/w.npy'), {
      probe: '/w.npy',
      from: 'workspace',
    });
    assert.equal(resolveProbe(scopes, 'runs/a.onnx', undefined, undefined), undefined);
    assert.equal(resolveProbe(scopes, undefined, undefined, '/w.npy')?.from, 'workspace');
  });

  void it('paths are normalised: ./, //, a trailing slash and .. segments', () => {
    assert.equal(
      resolveProbe(scopes, './models//mnist/../mnist/cnn.keras', undefined, undefined)?.from,
      'model',
    );
    assert.equal(
      resolveProbe({ 'models/mnist/': '/p.npy' }, 'models/mnist/a.onnx', undefined, undefined)
        ?.scope,
      'models/mnist',
    );
  });

  void it('a model outside the workspace folder gets no folder entry, not even the root', () => {
    const withRoot = withScope({}, '', '/root.npy');
    assert.equal(
      resolveProbe(withRoot, '../elsewhere/a.onnx', '/s.npy', undefined)?.from,
      'setting',
    );
  });
});

void describe('scopeKey and withScope', () => {
  void it('normalise scopes to /-separated relative paths', () => {
    assert.equal(scopeKey('./a/b/'), 'a/b');
    assert.equal(scopeKey('.'), '');
    assert.equal(scopeKey('a//b/../c'), 'a/c');
  });

  void it('set and remove an entry without changing the map given', () => {
    const set = withScope(scopes, './runs/', '/r.npy');
    assert.equal(set.runs, '/r.npy');
    assert.equal('runs' in scopes, false);
    assert.deepEqual(withScope(set, 'runs', undefined), scopes);
  });
});
