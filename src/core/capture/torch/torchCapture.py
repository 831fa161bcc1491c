"""MemLens' capture script for PyTorch models, run in the user's own Python with their torch.

Shipped inside MemLens and started as `python -c <this script>`. It reads requests from stdin
(one JSON line each, followed by the raw float32 probe bytes they announce) and answers on
stdout with frames: a 4-byte little-endian header length, a JSON header, then `bytes` bytes
of payload (float32 activations, row-major). Errors are one frame {type: error, code,
message} and exit code 3. Requests:
- open: load the model (TorchScript, a pickled module, a state_dict or a checkpoint dict
  with a factory, a Hugging Face folder) and list its modules with their output shapes from
  forward passes on 2 and 3 probe examples (the axis that grows is the batch axis).
- capture: forward the probe in batches with hooks on the chosen modules; each module's
  output is reduced as the request says (none, global-average-pool over the axes after the
  channels, first-token, mean-tokens) and streamed back per batch.
- export: a TorchScript module (no forward hooks allowed) is exported to ONNX, which MemLens
  captures through its ONNX reader.
"""
import importlib
import json
import os
import struct
import sys
import zipfile

OUT = sys.stdout.buffer
IN = sys.stdin.buffer


def send(header, payload=b''):
    header = dict(header, bytes=len(payload))
    text = json.dumps(header).encode('utf-8')
    OUT.write(struct.pack('<I', len(text)))
    OUT.write(text)
    OUT.write(payload)
    OUT.flush()


class Refusal(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def one_line(text, limit=300):
    text = ' '.join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + '...'


try:
    import torch
    from torch import nn
except Exception as err:  # ImportError, or a broken install raising something else
    send({'type': 'error', 'code': 'no-torch', 'message': one_line(err)})
    sys.exit(3)

ACTIVATIONS = tuple(
    getattr(nn, n)
    for n in [
        'ReLU', 'ReLU6', 'LeakyReLU', 'ELU', 'SELU', 'CELU', 'GELU', 'SiLU', 'Mish', 'Tanh',
        'Sigmoid', 'Softplus', 'Hardtanh', 'Hardswish', 'Hardsigmoid', 'PReLU', 'Softsign',
    ]
    if hasattr(nn, n)
)
MEASURED = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
CONV_LIKE = tuple(
    getattr(nn, n)
    for n in dir(nn)
    if any(k in n for k in ('Conv', 'Pool', 'BatchNorm', 'InstanceNorm', 'Dropout2d', 'Dropout3d'))
    and isinstance(getattr(nn, n), type)
)
STATE_KEYS = ('model_state_dict', 'state_dict', 'model', 'net')


def read_request():
    line = IN.readline()
    return json.loads(line) if line else None


def read_probe(shape, dtype):
    count = 1
    for d in shape:
        count *= d
    width = 8 if dtype == 'int64' else 4
    data = bytearray()
    while len(data) < count * width:
        chunk = IN.read(count * width - len(data))
        if not chunk:
            raise Refusal('protocol', 'the probe data ended early')
        data.extend(chunk)
    kind = torch.int64 if dtype == 'int64' else torch.float32
    return torch.frombuffer(data, dtype=kind).reshape(shape)


def is_torchscript(path):
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as z:
        return any(n.endswith('/constants.pkl') or '/code/' in n for n in z.namelist())


def keras_zip(path):
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
    return 'config.json' in names and 'model.weights.h5' in names


def load_file(path, weights_only):
    kwargs = {'map_location': 'cpu'}
    if weights_only:
        kwargs['weights_only'] = True
    try:
        return torch.load(path, **kwargs)
    except TypeError:  # a torch without weights_only
        kwargs.pop('weights_only', None)
        return torch.load(path, **kwargs)


def call_factory(spec):
    if ':' not in spec:
        raise Refusal('factory', f"expected the factory as module:callable, found '{spec}'")
    module_name, attr = spec.split(':', 1)
    try:
        module = importlib.import_module(module_name)
    except Exception as err:
        raise Refusal('factory', f"cannot import '{module_name}' for the factory {spec}: {one_line(err)}")
    target = module
    for part in attr.split('.'):
        if not hasattr(target, part):
            raise Refusal('factory', f"'{module_name}' has no '{attr}' (the factory {spec})")
        target = getattr(target, part)
    try:
        model = target()
    except Exception as err:
        raise Refusal('factory', f'the factory {spec} raised {type(err).__name__}: {one_line(err)}')
    if not isinstance(model, nn.Module):
        raise Refusal('factory', f'the factory {spec} returned a {type(model).__name__}, expected an nn.Module')
    return model


def state_dict_of(obj):
    """The state_dict inside a checkpoint: the object itself or under a known key."""
    if isinstance(obj, dict) and obj and all(torch.is_tensor(v) for v in obj.values()):
        return obj, None
    if isinstance(obj, dict):
        for key in STATE_KEYS:
            inner = obj.get(key)
            if isinstance(inner, dict) and inner and all(torch.is_tensor(v) for v in inner.values()):
                return inner, key
    return None, None


def load_state(model, state, spec):
    if not any(k in dict(model.state_dict()) for k in state) and all(k.startswith('model.') for k in state):
        state = {k[len('model.'):]: v for k, v in state.items()}  # Lightning's prefix
    result = model.state_dict()
    missing = [k for k in result if k not in state]
    unexpected = [k for k in state if k not in result]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''} ({len(missing)} in all)")
        if unexpected:
            parts.append(f"unexpected {', '.join(unexpected[:3])}{' ...' if len(unexpected) > 3 else ''} ({len(unexpected)} in all)")
        raise Refusal('state-dict', f"the state_dict does not fit the model of {spec}: {'; '.join(parts)}")
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        raise Refusal('state-dict', f'the state_dict does not fit the model of {spec}: {one_line(err)}')


def open_model(req):
    path = req['model']
    for p in reversed(req.get('paths', [])):  # the first path is searched first
        if p and p not in sys.path:
            sys.path.insert(0, p)
    if os.path.isdir(path):
        return open_hf(path)
    if zipfile.is_zipfile(path) and keras_zip(path):
        raise Refusal('format', 'expected a PyTorch checkpoint, found a Keras .keras zip (config.json, model.weights.h5)')
    if is_torchscript(path):
        return 'torchscript', torch.jit.load(path, map_location='cpu')
    try:
        obj = load_file(path, weights_only=True)
    except Refusal:
        raise
    except Exception as err:
        if not weights_only_refusal(err):
            raise Refusal('load', f'cannot load the checkpoint: {type(err).__name__}: {one_line(err)}')
        try:
            obj = load_file(path, weights_only=False)
        except Exception as err2:
            raise Refusal('load', f'loading the pickle raised {type(err2).__name__}: {one_line(err2)}')
    if isinstance(obj, nn.Module):
        return 'module', obj
    state, key = state_dict_of(obj)
    if state is None:
        raise Refusal('load', f'expected a module, a state_dict or a checkpoint dict with one under {"/".join(STATE_KEYS)}, found a {type(obj).__name__}')
    spec = req.get('factory')
    if not spec:
        raise Refusal('no-factory', f"the file holds a state_dict{f' (under {key!r})' if key else ''}, which needs a factory to build the model")
    model = call_factory(spec)
    load_state(model, state, spec)
    return 'state_dict', model


def weights_only_refusal(err):
    text = str(err)
    return 'weights_only' in text or 'Unsupported global' in text or 'Unsupported operand' in text


def open_hf(path):
    try:
        import transformers
    except Exception:
        raise Refusal('no-transformers', 'a Hugging Face folder needs the transformers package in this Python')
    try:
        model = transformers.AutoModel.from_pretrained(path)
    except Exception as err:
        raise Refusal('load', f'transformers cannot load the folder: {one_line(err)}')
    return 'hf', model


def first_tensor(value):
    if torch.is_tensor(value):
        return value
    if isinstance(value, (tuple, list)) and value:
        return first_tensor(value[0])
    if hasattr(value, 'last_hidden_state'):
        return value.last_hidden_state
    return None


def takes_token_ids(model, kind):
    first = next((m for m in model.modules() if not list(m.children())), None)
    return kind == 'hf' or isinstance(first, nn.Embedding)


def run(model, kind, x):
    with torch.no_grad():
        if takes_token_ids(model, kind):
            x = x.round().long()
        if kind == 'hf':
            return model(input_ids=x, attention_mask=torch.ones_like(x))
        return model(x)


def following_activations(model):
    """For a module directly followed by an activation module in a Sequential: that activation."""
    after = {}
    for name, mod in model.named_modules():
        if isinstance(mod, nn.Sequential):
            children = list(mod.named_children())
            for (a, ma), (b, mb) in zip(children, children[1:]):
                if isinstance(mb, ACTIVATIONS) and not isinstance(ma, ACTIVATIONS):
                    after[f'{name}.{a}' if name else a] = (f'{name}.{b}' if name else b, type(mb).__name__.lower())
    return after


def shapes_and_order(model, kind, x):
    """Output shape of every module on x, and the order modules ran in."""
    shapes, order, hooks = {}, [], []
    for name, mod in model.named_modules():
        if name == '':
            continue

        def hook(_m, _i, out, name=name):
            t = first_tensor(out)
            if t is not None and name not in shapes:
                shapes[name] = list(t.shape)
                order.append(name)

        hooks.append(mod.register_forward_hook(hook))
    try:
        run(model, kind, x)
    finally:
        for h in hooks:
            h.remove()
    return shapes, order


def describe(model, kind, probe):
    model.eval()
    two, three = probe[:2], probe[:3]
    try:
        s2, order = shapes_and_order(model, kind, two)
        s3, _ = shapes_and_order(model, kind, three)
    except Exception as err:
        raise Refusal('forward', f'the model rejected the probe (shape {list(probe.shape[1:])} per example): {type(err).__name__}: {one_line(err)}')
    modules = dict(model.named_modules())
    after = following_activations(model)
    weighted = [n for n in order if isinstance(modules[n], MEASURED)]
    head = weighted[-1] if weighted else None
    layers = []
    for name in order:
        a, b = s2[name], s3.get(name)
        axes = [i for i in range(len(a)) if b is not None and len(b) == len(a) and a[i] != b[i]]
        if len(axes) != 1:
            continue  # not batched (a buffer, a shared constant): nothing per example
        mod = modules[name]
        rest = [d for i, d in enumerate(a) if i != axes[0]]
        if kind == 'hf':
            default = bool(__import__('re').search(r'\.(layer|layers|h|block|blocks)\.\d+$', name))
        else:
            default = isinstance(mod, MEASURED) and name != head
        layers.append({
            'name': name,
            'type': type(mod).__name__,
            'outputShape': [None] + rest,
            'batchAxis': axes[0],
            'activation': after.get(name, (None, None))[1],
            'activationModule': after.get(name, (None, None))[0],
            'convLike': isinstance(mod, CONV_LIKE) or (isinstance(mod, ACTIVATIONS) and preceded_by_conv(model, name)),
            'measuredByDefault': default,
        })
    return layers


def preceded_by_conv(model, name):
    for a, (b, _) in following_activations(model).items():
        if b == name:
            return isinstance(dict(model.named_modules())[a], CONV_LIKE)
    return False


def reduce(t, reduction, batch_axis):
    t = t.detach().to(torch.float32)
    if batch_axis != 0:
        t = t.movedim(batch_axis, 0)
    if t.dim() == 1:
        t = t.reshape(-1, 1)
    if reduction == 'global-average-pool':
        t = t.mean(dim=tuple(range(2, t.dim()))) if t.dim() > 2 else t
    elif reduction == 'first-token':
        t = t[:, 0]
    elif reduction == 'mean-tokens':
        t = t.mean(dim=1)
    return t.reshape(t.shape[0], -1).contiguous()


def capture(model, kind, req, probe):
    modules = dict(model.named_modules())
    chosen = req['layers']
    store, hooks = {}, []
    for spec in chosen:
        target = modules[spec['module']]

        def hook(_m, _i, out, spec=spec):
            store[spec['name']] = reduce(first_tensor(out), spec['reduction'], spec['batchAxis'])

        hooks.append(target.register_forward_hook(hook))
    batch = max(1, int(req['batch']))
    total = probe.shape[0]
    try:
        for start in range(0, total, batch):
            store.clear()
            x = probe[start:start + batch]
            try:
                run(model, kind, x)
            except Exception as err:
                raise Refusal('forward', f'the model failed on examples {start} to {start + len(x) - 1}: {type(err).__name__}: {one_line(err)}')
            parts = [store[s['name']] for s in chosen]
            payload = b''.join(p.numpy().astype('<f4').tobytes() for p in parts)
            send({'type': 'batch', 'rows': len(x), 'widths': [p.shape[1] for p in parts]}, payload)
    finally:
        for h in hooks:
            h.remove()
    send({'type': 'done'})


def export_onnx(model, req, probe):
    try:
        torch.onnx.export(model, probe[:2], req['out'], input_names=['input'], output_names=['output'],
                          dynamic_axes={'input': {0: 'batch'}, 'output': {0: 'batch'}}, opset_version=13)
    except Exception as err:
        raise Refusal('export', f'the TorchScript module could not be exported to ONNX for capture: {one_line(err)}')
    # A ScriptModule keeps its Python class name as original_name.
    modules = {n: getattr(m, 'original_name', type(m).__name__) for n, m in model.named_modules() if n}
    send({'type': 'exported', 'modules': modules})


def main():
    torch.set_num_threads(max(1, int(os.environ.get('MEMLENS_TORCH_THREADS', '0')) or torch.get_num_threads()))
    model, kind = None, None
    while True:
        req = read_request()
        if req is None:
            return
        probe = read_probe(req['probe']['shape'], req['probe']['dtype']) if 'probe' in req else None
        if req['cmd'] == 'open':
            kind, model = open_model(req)
            send({'type': 'opened', 'kind': kind, 'torch': torch.__version__, 'python': sys.executable,
                  'parameters': sum(p.numel() for p in model.parameters())})
        elif req['cmd'] == 'describe':
            send({'type': 'layers', 'layers': describe(model, kind, probe)})
        elif req['cmd'] == 'capture':
            capture(model, kind, req, probe)
        elif req['cmd'] == 'export':
            export_onnx(model, req, probe)


try:
    main()
except Refusal as err:
    send({'type': 'error', 'code': err.code, 'message': one_line(err)})
    sys.exit(3)
except Exception as err:
    send({'type': 'error', 'code': 'internal', 'message': f'{type(err).__name__}: {one_line(err)}'})
    sys.exit(3)
