import * as protobuf from 'protobufjs';
import { UserError } from '../../errors';

/**
 * The ONNX protobuf schema (onnx/onnx.proto, IR version 9), written out from the public
 * specification. Every message and field is declared, so a model decoded and re-encoded keeps
 * all of its content (protobufjs drops fields its schema does not know).
 */
const ONNX_PROTO = `
syntax = "proto2";
package onnx;
message AttributeProto {
  enum AttributeType { UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5;
    SPARSE_TENSOR = 11; TYPE_PROTO = 13; FLOATS = 6; INTS = 7; STRINGS = 8; TENSORS = 9;
    GRAPHS = 10; SPARSE_TENSORS = 12; TYPE_PROTOS = 14; }
  optional string name = 1;
  optional string ref_attr_name = 21;
  optional string doc_string = 13;
  optional AttributeType type = 20;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  optional GraphProto g = 6;
  optional SparseTensorProto sparse_tensor = 22;
  optional TypeProto tp = 14;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
  repeated TensorProto tensors = 10;
  repeated GraphProto graphs = 11;
  repeated SparseTensorProto sparse_tensors = 23;
  repeated TypeProto type_protos = 15;
}
message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
  optional string doc_string = 3;
  repeated StringStringEntryProto metadata_props = 4;
}
message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  optional string domain = 7;
  optional string overload = 8;
  repeated AttributeProto attribute = 5;
  optional string doc_string = 6;
  repeated StringStringEntryProto metadata_props = 9;
}
message TrainingInfoProto {
  optional GraphProto initialization = 1;
  optional GraphProto algorithm = 2;
  repeated StringStringEntryProto initialization_binding = 3;
  repeated StringStringEntryProto update_binding = 4;
}
message ModelProto {
  optional int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string domain = 4;
  optional int64 model_version = 5;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
  repeated StringStringEntryProto metadata_props = 14;
  repeated TrainingInfoProto training_info = 20;
  repeated FunctionProto functions = 25;
}
message StringStringEntryProto {
  optional string key = 1;
  optional string value = 2;
}
message TensorAnnotation {
  optional string tensor_name = 1;
  repeated StringStringEntryProto quant_parameter_tensor_names = 2;
}
message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  repeated SparseTensorProto sparse_initializer = 15;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
  repeated TensorAnnotation quantization_annotation = 14;
  repeated StringStringEntryProto metadata_props = 16;
}
message TensorProto {
  message Segment {
    optional int64 begin = 1;
    optional int64 end = 2;
  }
  enum DataLocation { DEFAULT = 0; EXTERNAL = 1; }
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  optional Segment segment = 3;
  repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true];
  repeated bytes string_data = 6;
  repeated int64 int64_data = 7 [packed = true];
  optional string name = 8;
  optional string doc_string = 12;
  optional bytes raw_data = 9;
  repeated StringStringEntryProto external_data = 13;
  optional DataLocation data_location = 14;
  repeated double double_data = 10 [packed = true];
  repeated uint64 uint64_data = 11 [packed = true];
  repeated StringStringEntryProto metadata_props = 16;
}
message SparseTensorProto {
  optional TensorProto values = 1;
  optional TensorProto indices = 2;
  repeated int64 dims = 3;
}
message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
    optional string denotation = 3;
  }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  message Sequence {
    optional TypeProto elem_type = 1;
  }
  message Map {
    optional int32 key_type = 1;
    optional TypeProto value_type = 2;
  }
  message Optional {
    optional TypeProto elem_type = 1;
  }
  message SparseTensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
    Sequence sequence_type = 4;
    Map map_type = 5;
    Optional optional_type = 9;
    SparseTensor sparse_tensor_type = 8;
  }
  optional string denotation = 6;
}
message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}
message FunctionProto {
  optional string name = 1;
  repeated string input = 4;
  repeated string output = 5;
  repeated string attribute = 6;
  repeated AttributeProto attribute_proto = 11;
  repeated NodeProto node = 7;
  optional string doc_string = 8;
  repeated OperatorSetIdProto opset_import = 9;
  optional string domain = 10;
  optional string overload = 13;
  repeated ValueInfoProto value_info = 12;
  repeated StringStringEntryProto metadata_props = 14;
}
`;

/** An int64 field as protobufjs decodes it: a number, or a Long when the value is large. */
export type Int64 = number | { toNumber(): number };

export interface OnnxStringEntry {
  key: string;
  value: string;
}
export interface OnnxTensorProto {
  dims: Int64[];
  dataType?: number;
  name?: string;
  rawData?: Uint8Array;
  floatData?: number[];
  externalData: OnnxStringEntry[];
  dataLocation?: number;
}
export interface OnnxDimension {
  dimValue?: Int64;
  dimParam?: string;
}
export interface OnnxTypeProto {
  tensorType?: { elemType?: number; shape?: { dim: OnnxDimension[] } };
}
export interface OnnxValueInfo {
  name?: string;
  type?: OnnxTypeProto;
}
export interface OnnxAttribute {
  name?: string;
  type?: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  ints?: Int64[];
  floats?: number[];
  g?: OnnxGraphProto;
  graphs?: OnnxGraphProto[];
  t?: OnnxTensorProto;
  tensors?: OnnxTensorProto[];
  sparseTensor?: { values?: OnnxTensorProto; indices?: OnnxTensorProto };
  sparseTensors?: { values?: OnnxTensorProto; indices?: OnnxTensorProto }[];
}
export interface OnnxNodeProto {
  input: string[];
  output: string[];
  name?: string;
  opType?: string;
  domain?: string;
  attribute: OnnxAttribute[];
}
export interface OnnxGraphProto {
  node: OnnxNodeProto[];
  name?: string;
  initializer: OnnxTensorProto[];
  sparseInitializer?: { values?: OnnxTensorProto; indices?: OnnxTensorProto }[];
  input: OnnxValueInfo[];
  output: OnnxValueInfo[];
  valueInfo: OnnxValueInfo[];
}
export interface OnnxModelProto {
  irVersion?: Int64;
  opsetImport: { domain?: string; version?: Int64 }[];
  producerName?: string;
  graph?: OnnxGraphProto;
}

/** ONNX TensorProto.DataType of float32. */
const ONNX_FLOAT = 1;

let modelType: protobuf.Type | undefined;

function modelProto(): protobuf.Type {
  modelType ??= protobuf.parse(ONNX_PROTO, { keepCase: false }).root.lookupType('onnx.ModelProto');
  return modelType;
}

/**
 * A dimension's fixed size, or null for a symbolic (dim_param) or missing one. Decoded messages
 * carry field defaults on their prototype (dim_value reads 0 when dim_param is set), so only
 * an own dim_value counts.
 */
export function dimSize(d: OnnxDimension | undefined): number | null {
  if (d === undefined || !Object.prototype.hasOwnProperty.call(d, 'dimValue')) return null;
  return d.dimValue === undefined || d.dimValue === null ? null : int64(d.dimValue);
}

/** An int64 protobuf field as a JS number. */
export function int64(v: Int64 | undefined | null): number {
  if (v === undefined || v === null) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

/**
 * Decodes an ONNX ModelProto; a file that is not one (truncated, another format) gives a
 * UserError naming the file and what its bytes look like.
 */
export function decodeOnnxModel(bytes: Uint8Array, file: string): OnnxModelProto {
  let model: OnnxModelProto;
  try {
    model = modelProto().decode(bytes) as unknown as OnnxModelProto;
  } catch (err) {
    throw new UserError(
      `${file}: expected an ONNX model (a protobuf ModelProto), found bytes that do not parse as one (${(err as Error).message.split('\n')[0]}; truncated or not ONNX?)`,
    );
  }
  if (model.graph === undefined || model.graph === null || model.graph.node.length === 0) {
    throw new UserError(
      `${file}: expected an ONNX model with a graph of nodes, found ${model.graph ? 'an empty graph' : 'no graph'}`,
    );
  }
  if (model.opsetImport.length === 0) {
    throw new UserError(`${file}: expected an ONNX model with an opset import, found none`);
  }
  return model;
}

/** Encodes a (possibly edited) ModelProto to bytes. */
export function encodeOnnxModel(model: OnnxModelProto): Uint8Array {
  const type = modelProto();
  return type.encode(type.fromObject(model as unknown as Record<string, unknown>)).finish();
}

/**
 * A float TensorProto (as stored in ONNX test data, input_0.pb) as dims and float values, or
 * undefined when it holds another element type.
 */
export function decodeOnnxFloatTensor(
  bytes: Uint8Array,
): { name: string; dims: number[]; values: Float32Array } | undefined {
  const type = modelProto().root.lookupType('onnx.TensorProto');
  const t = type.decode(bytes) as unknown as OnnxTensorProto;
  if ((t.dataType ?? 0) !== ONNX_FLOAT) return undefined;
  const dims = t.dims.map((d) => int64(d));
  let values: Float32Array;
  if (t.rawData !== undefined && t.rawData.length > 0) {
    const copy = new Uint8Array(t.rawData);
    values = new Float32Array(copy.buffer, 0, copy.length / 4);
  } else values = Float32Array.from(t.floatData ?? []);
  return { name: t.name ?? '', dims, values };
}

/** A graph and every subgraph inside it (If branches, Loop bodies), at any depth. */
function withSubgraphs(graph: OnnxGraphProto | undefined): OnnxGraphProto[] {
  const all: OnnxGraphProto[] = [];
  const stack = graph === undefined ? [] : [graph];
  for (let g = stack.pop(); g !== undefined; g = stack.pop()) {
    all.push(g);
    for (const node of g.node ?? [])
      for (const a of node.attribute ?? []) {
        if (a.g) stack.push(a.g);
        stack.push(...(a.graphs ?? []));
      }
  }
  return all;
}

/** The nodes of a graph and of its subgraphs. */
export function graphNodes(graph: OnnxGraphProto | undefined): OnnxNodeProto[] {
  return withSubgraphs(graph).flatMap((g) => g.node ?? []);
}

/**
 * Every tensor a graph holds, wherever external data can hide: initializers, and the tensor
 * attributes of its nodes (a Constant's value, sparse tensors), subgraphs (If, Loop) included.
 */
export function graphTensors(graph: OnnxGraphProto | undefined): OnnxTensorProto[] {
  const out: OnnxTensorProto[] = [];
  for (const g of withSubgraphs(graph)) {
    out.push(...(g.initializer ?? []));
    for (const sparse of g.sparseInitializer ?? []) {
      if (sparse.values) out.push(sparse.values);
      if (sparse.indices) out.push(sparse.indices);
    }
    for (const node of g.node ?? []) {
      for (const a of node.attribute ?? []) {
        if (a.t) out.push(a.t);
        out.push(...(a.tensors ?? []));
        for (const sparse of [a.sparseTensor, ...(a.sparseTensors ?? [])]) {
          if (sparse?.values) out.push(sparse.values);
          if (sparse?.indices) out.push(sparse.indices);
        }
      }
    }
  }
  return out;
}

/**
 * The side files a model keeps tensor data in (external-data `location`s, relative to the
 * model's folder), each once, in order of first use.
 */
export function externalDataLocations(model: OnnxModelProto): string[] {
  const locations = new Set<string>();
  for (const t of graphTensors(model.graph)) {
    if (t.dataLocation !== 1) continue;
    const location = t.externalData.find((e) => e.key === 'location')?.value;
    if (location !== undefined) locations.add(location);
  }
  return [...locations];
}
